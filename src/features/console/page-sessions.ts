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
<p><button type="button" id="logout-all" class="danger" aria-describedby="logout-all-hint">${t('sessions.logoutAll')}</button></p>
<section aria-labelledby="devices-title">
<h2 id="devices-title">${t('sessions.devicesTitle')}</h2>
<div id="device-list"></div>
</section>
<section aria-labelledby="passkeys-title">
<h2 id="passkeys-title">${t('sessions.passkeysTitle')}</h2>
<p id="no-passkeys" hidden>${t('sessions.noPasskeys')}</p>
<div id="passkey-list"></div>
<p><a href="/account/passkeys">${t('sessions.addPasskey')}</a></p>
</section>`,
};
