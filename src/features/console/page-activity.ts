import { loading } from './form.ts';
import type { ConsolePage } from './page.ts';

const KINDS = ['session', 'profile', 'data', 'grant', 'email', 'password', 'user'];

export const activityPage: ConsolePage = {
  id: 'activity',
  path: '/account/activity',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('activity.intro')}</p>
<section id="sealed" class="card" aria-labelledby="sealed-title" hidden>
<h2 id="sealed-title">${t('activity.sealedTitle')}</h2>
<p id="sealed-text" role="status"></p>
<p><a id="sealed-download" download="ringfence-activity-proof.json" href="#" hidden>${t('activity.sealedDownload')}</a></p>
</section>
<div class="field inline"><label for="kind">${t('activity.kind')}</label><select id="kind"><option value="">${t('activity.all')}</option>${KINDS.map((k) => `<option value="${k}">${k}</option>`).join('')}</select></div>
${loading(t)}
<p id="empty" hidden>${t('activity.empty')}</p>
<div class="table-wrap" tabindex="0"><table id="events" class="stack" hidden>
<caption class="visually-hidden">${t('activity.title')}</caption>
<thead><tr><th scope="col">${t('activity.when')}</th><th scope="col">${t('activity.what')}</th><th scope="col">${t('activity.who')}</th><th scope="col">${t('activity.details')}</th></tr></thead><tbody></tbody></table></div>
<p><button type="button" id="more" class="secondary" hidden>${t('common.more')}</button></p>`,
};
