import type { Handler } from '../../deps.ts';
import { createSetup } from './setup.ts';

/** Seed API 4: set up break-the-glass access; sealed under a data key of its own. */
export const createEmergencyAccess: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('createEmergencyAccess needs a user caller');
  const { access_id } = await createSetup(deps, caller.userId, body, clientIp);
  return { access_id };
};
