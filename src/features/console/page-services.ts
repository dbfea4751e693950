import { loading } from './form.ts';
import type { ConsolePage } from './page.ts';

export const servicesPage: ConsolePage = {
  id: 'services',
  path: '/account/services',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('services.intro')}</p>
${loading(t)}
<p id="no-services" hidden>${t('services.none')}</p>
<div id="service-list"></div>
<div id="confirm" class="dialog" role="alertdialog" aria-modal="false" aria-labelledby="confirm-title" aria-describedby="confirm-text" hidden>
<h2 id="confirm-title" tabindex="-1"></h2>
<p id="confirm-text">${t('services.confirmText')}</p>
<ul id="confirm-fields"></ul>
<p class="form-error" role="alert"></p>
<button type="button" id="confirm-yes" class="danger">${t('services.confirm')}</button>
<button type="button" id="confirm-no" class="secondary">${t('common.cancel')}</button>
</div>`,
};
