import type { Handler } from '../../deps.ts';
import { admitAnonymous } from './anonymous.ts';
import { authenticationOptions } from './webauthn.ts';

/** Options of a passkey sign-in (any discoverable passkey), or of a step-up with the signed-in person's own. */
export const createPasskeyLoginOptions: Handler = async (input, deps) => {
  const { caller } = input;
  if (caller.kind !== 'user') await admitAnonymous(input, deps);
  return { options: await authenticationOptions(deps, caller.kind === 'user' ? caller.userId : null) };
};
