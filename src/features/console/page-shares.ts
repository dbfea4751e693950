import { loading } from './form.ts';
import type { ConsolePage } from './page.ts';

export const sharesPage: ConsolePage = {
  id: 'shares',
  path: '/account/shares',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('shares.intro')}</p>
${loading(t)}
<section aria-labelledby="requests-title">
<h2 id="requests-title">${t('shares.requestsTitle')}</h2>
<p id="no-requests" hidden>${t('shares.noRequests')}</p>
<div id="request-list"></div>
</section>
<section aria-labelledby="shares-title">
<h2 id="shares-title">${t('shares.sharesTitle')}</h2>
<p id="no-shares" hidden>${t('shares.noShares')}</p>
<div id="share-list"></div>
</section>`,
};
