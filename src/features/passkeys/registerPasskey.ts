import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { passkeyView, registerPasskey as register } from './webauthn.ts';

/** Stores the passkey of a verified registration answer. */
export const registerPasskey: Handler = async ({ caller, body, clientIp }, deps) => {
  const row = await register(deps, userCaller(caller).userId, body.response as RegistrationResponseJSON, body.name as string | undefined, clientIp);
  return { passkey: passkeyView(row) };
};
