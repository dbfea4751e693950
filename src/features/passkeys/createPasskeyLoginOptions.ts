import type { Handler } from '../../deps.ts';
import { CHALLENGES_PER_ADDRESS, reserveUnderLimit } from '../accounts/throttle.ts';
import { authenticationOptions } from './webauthn.ts';

/** Options of a passkey sign-in (any discoverable passkey), or of a step-up with the signed-in person's own. */
export const createPasskeyLoginOptions: Handler = async ({ caller, clientIp }, deps) => {
  if (caller.kind !== 'user') await reserveUnderLimit(deps.db, CHALLENGES_PER_ADDRESS, clientIp);
  return { options: await authenticationOptions(deps, caller.kind === 'user' ? caller.userId : null) };
};
