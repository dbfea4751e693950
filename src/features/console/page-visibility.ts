import { loading } from './form.ts';
import type { ConsolePage } from './page.ts';

export const visibilityPage: ConsolePage = {
  id: 'visibility',
  path: '/account/visibility',
  signedIn: true,
  nav: true,
  body: (t) => `<p>${t('visibility.intro')}</p>
${loading(t)}
<div id="readers"></div>
<p class="muted" id="revision"></p>`,
};
