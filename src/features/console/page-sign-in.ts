import { field, formError, submit } from './form.ts';
import type { ConsolePage } from './page.ts';

export const signInPage: ConsolePage = {
  id: 'signIn',
  path: '/account/sign-in',
  signedIn: false,
  nav: false,
  body: (t) => `<form id="sign-in" novalidate>
${formError()}
${field('sign-in', 'login', t('signIn.login'), { autocomplete: 'username', required: true, path: 'email' })}
${field('sign-in', 'password', t('common.password'), { type: 'password', autocomplete: 'current-password', required: true })}
${submit(t('signIn.submit'))}
</form>
<p><a href="/account/sign-up">${t('signIn.noAccount')}</a></p>
<p><a href="/account/forgot-password">${t('signIn.forgot')}</a></p>`,
};
