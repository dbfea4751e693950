import { field, formError, loading, submit } from './form.ts';
import type { ConsolePage } from './page.ts';

export const ringsPage: ConsolePage = {
  id: 'rings',
  path: '/account/rings',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('rings.intro')}</p>
${loading(t)}
<section aria-labelledby="move-title"><h2 id="move-title">${t('rings.moveTitle')}</h2>
<div class="table-wrap" tabindex="0"><table id="placements" hidden>
<caption class="visually-hidden">${t('rings.moveTitle')}</caption>
<thead><tr><th scope="col">${t('profile.field')}</th><th scope="col">${t('profile.ring')}</th></tr></thead><tbody></tbody></table></div>
</section>
<section aria-labelledby="custom-title"><h2 id="custom-title">${t('rings.customTitle')}</h2>
<div id="custom-rings"></div>
<h3>${t('rings.newRing')}</h3>
<form id="new-ring" novalidate>
${formError()}
${field('new-ring', 'ring_name', t('rings.ringName'), { required: true })}
${field('new-ring', 'description', t('rings.description'))}
${field('new-ring', 'fields', t('rings.fields'), { path: 'assigned_data.fields' })}
${field('new-ring', 'roles', t('rings.roles'), { path: 'assigned_data.roles' })}
${field('new-ring', 'services', t('rings.services'), { path: 'assigned_data.services' })}
${submit(t('rings.create'))}
</form>
</section>
<section aria-labelledby="policy-title"><h2 id="policy-title">${t('rings.policyTitle')}</h2>
<p>${t('rings.policyIntro')}</p>
<p><a id="download" class="button secondary" href="#" download="ring-policy.yaml">${t('rings.download')}</a></p>
<form id="policy" novalidate>
${formError()}
<div class="field"><label for="policy-yaml">${t('rings.policy')}</label><textarea id="policy-yaml" name="yaml" data-path="yaml" rows="12" spellcheck="false" aria-describedby="policy-yaml-error"></textarea><p class="field-error" id="policy-yaml-error"></p></div>
<ol id="policy-problems" class="problems"></ol>
<div class="field"><label for="policy-file">${t('rings.file')}</label><input id="policy-file" type="file" accept=".yaml,.yml,application/yaml,text/yaml"></div>
${submit(t('rings.upload'))}
</form>
</section>`,
};
