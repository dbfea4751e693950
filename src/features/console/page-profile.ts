import { loading } from './form.ts';
import type { ConsolePage } from './page.ts';

export const profilePage: ConsolePage = {
  id: 'profile',
  path: '/account',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('profile.intro')}</p>
<p id="unverified" class="notice" hidden>${t('profile.unverified')} <a href="/account/verify-email">${t('profile.verifyNow')}</a></p>
${loading(t)}
<div class="table-wrap" tabindex="0"><table id="fields" class="stack" hidden>
<caption class="visually-hidden">${t('profile.title')}</caption>
<thead><tr><th scope="col">${t('profile.field')}</th><th scope="col">${t('profile.value')}</th><th scope="col">${t('profile.ring')}</th><th scope="col">${t('profile.provenance')}</th></tr></thead>
<tbody></tbody>
</table></div>`,
};
