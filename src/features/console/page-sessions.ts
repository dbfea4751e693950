import { formError, loading } from './form.ts';
import type { ConsolePage } from './page.ts';

export const sessionsPage: ConsolePage = {
  id: 'sessions',
  path: '/account/sessions',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('sessions.intro')}</p>
${loading(t)}
<dl id="session" hidden><dt>${t('sessions.signedInAs')}</dt><dd id="session-who"></dd><dt>${t('sessions.expires')}</dt><dd id="session-expires"></dd></dl>
${formError()}
<p><button type="button" id="logout" class="secondary">${t('sessions.logout')}</button></p>
<p class="hint" id="logout-all-hint">${t('sessions.logoutAllHint')}</p>
<p><button type="button" id="logout-all" class="danger" aria-describedby="logout-all-hint">${t('sessions.logoutAll')}</button></p>`,
};
