import type { Handler } from '../../deps.ts';
import { EmergencyAccessNotFound } from '../../errors.ts';
import { showSetup } from './setup.ts';

/** The person's emergency setup. */
export const getEmergencyAccess: Handler = async ({ caller }, deps) => {
  if (caller.kind !== 'user') throw new Error('getEmergencyAccess needs a user caller');
  const setup = await showSetup(deps, caller.userId);
  if (!setup) throw new EmergencyAccessNotFound('you have no emergency access set up: create it with POST /api/v1/profile/emergency-access');
  return setup;
};
