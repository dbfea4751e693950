import { Reply, type Handler } from '../../deps.ts';
import { PASSKEY_SCRIPTS, renderPage } from '../../oidc/pages.ts';
import { PASSKEYS_PAGE_BODY } from './page.ts';

/** The passkeys page: sign in, add and list passkeys (the browser's WebAuthn, @simplewebauthn/browser). */
export const showPasskeysPage: Handler = ({ ctx }) =>
  new Reply(renderPage(ctx, { title: 'Passkeys', body: PASSKEYS_PAGE_BODY, scripts: PASSKEY_SCRIPTS }), { type: 'text/html; charset=utf-8' });
