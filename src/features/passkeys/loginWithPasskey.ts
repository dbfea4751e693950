import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Handler } from '../../deps.ts';
import { loginBy } from './login.ts';
import { verifyPasskey } from './webauthn.ts';

/** Signs in with a passkey: a verified answer (user verification required) to a sign-in challenge. */
export const loginWithPasskey: Handler = async ({ body, clientIp }, deps) => {
  const passkey = await verifyPasskey(deps, body.response as AuthenticationResponseJSON, clientIp);
  return loginBy(deps, passkey.user_id, 'passkey', clientIp);
};
