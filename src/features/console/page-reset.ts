import { field, formError, submit } from './form.ts';
import type { ConsolePage } from './page.ts';

export const resetPage: ConsolePage = {
  id: 'reset',
  path: '/account/reset-password',
  signedIn: false,
  nav: false,
  body: (t) => `<form id="reset" novalidate>
${formError()}
${field('reset', 'token', t('reset.token'), { autocomplete: 'off', required: true })}
${field('reset', 'new_password', t('reset.newPassword'), { type: 'password', autocomplete: 'new-password', required: true, hint: t('signUp.passwordHint') })}
${submit(t('reset.submit'))}
</form>
<p><a href="/account/sign-in">${t('signIn.title')}</a></p>`,
};
