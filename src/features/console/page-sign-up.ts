import { field, formError, submit } from './form.ts';
import type { ConsolePage } from './page.ts';

export const signUpPage: ConsolePage = {
  id: 'signUp',
  path: '/account/sign-up',
  signedIn: false,
  nav: false,
  body: (t) => `<form id="sign-up" novalidate>
${formError()}
${field('sign-up', 'name', t('common.name'), { autocomplete: 'name', required: true })}
${field('sign-up', 'email', t('common.email'), { type: 'email', autocomplete: 'email', required: true })}
${field('sign-up', 'handle', t('common.handle'), { autocomplete: 'username', required: true, hint: t('signUp.handleHint') })}
${field('sign-up', 'password', t('common.password'), { type: 'password', autocomplete: 'new-password', required: true, hint: t('signUp.passwordHint') })}
${submit(t('signUp.submit'))}
</form>
<p><a href="/account/sign-in">${t('signUp.haveAccount')}</a></p>`,
};
