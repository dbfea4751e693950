import { field, formError, submit } from './form.ts';
import type { ConsolePage } from './page.ts';

export const forgotPage: ConsolePage = {
  id: 'forgot',
  path: '/account/forgot-password',
  signedIn: false,
  nav: false,
  body: (t) => `<p>${t('forgot.intro')}</p>
<form id="forgot" novalidate>
${formError()}
${field('forgot', 'email', t('common.email'), { type: 'email', autocomplete: 'email', required: true })}
${submit(t('forgot.submit'))}
</form>
<p><a href="/account/reset-password">${t('forgot.next')}</a></p>`,
};
