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
<div id="service-list"></div>`,
};
