import type { Handler } from '../../deps.ts';
import { authenticationOptions } from './webauthn.ts';

/** Options of a passkey sign-in (any discoverable passkey), or of a step-up with the signed-in person's own. */
export const createPasskeyLoginOptions: Handler = async ({ caller }, deps) => ({
  options: await authenticationOptions(deps, caller.kind === 'user' ? caller.userId : null),
});
