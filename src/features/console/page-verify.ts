import { field, formError, submit } from './form.ts';
import type { ConsolePage } from './page.ts';

export const verifyPage: ConsolePage = {
  id: 'verify',
  path: '/account/verify-email',
  signedIn: true,
  nav: false,
  body: (t) => `<p>${t('verify.intro')}</p>
<form id="verify" novalidate>
${formError()}
${field('verify', 'code', t('verify.code'), { autocomplete: 'one-time-code', required: true, extra: 'inputmode="numeric" maxlength="6"' })}
${submit(t('verify.submit'))}
</form>
<form id="resend" novalidate>
${formError()}
<button type="submit" class="secondary">${t('verify.resend')}</button>
</form>`,
};
