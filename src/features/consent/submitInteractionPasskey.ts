import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Handler } from '../../deps.ts';
import { assertCsrf, completeLogin } from '../../oidc/interactions.ts';
import { verifyPasskey } from '../passkeys/webauthn.ts';

/**
 * Signs in on the provider's login page with a passkey (its script posts the WebAuthn answer here): the answer is
 * verified as a first-party passkey sign-in is, then the provider's flow goes on; the page follows `redirect_to`.
 */
export const submitInteractionPasskey: Handler = async ({ ctx, params, body, clientIp }, deps) => {
  assertCsrf(deps, params.uid, body.csrf);
  const passkey = await verifyPasskey(deps, body.response as AuthenticationResponseJSON, clientIp);
  // amr (RFC 8176): a hardware-bound key, with the user verified on the device.
  return { redirect_to: await completeLogin(deps, ctx, passkey.user_id, ['hwk', 'user']) };
};
