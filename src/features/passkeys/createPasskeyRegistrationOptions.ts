import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { registrationOptions } from './webauthn.ts';

/** The options of a passkey registration for the signed-in person (give them to startRegistration). */
export const createPasskeyRegistrationOptions: Handler = async ({ caller }, deps) => ({
  options: await registrationOptions(deps, userCaller(caller).userId),
});
