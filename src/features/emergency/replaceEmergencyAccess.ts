import type { Handler } from '../../deps.ts';
import { EmergencyAccessNotFound } from '../../errors.ts';
import { replaceSetup, showSetup } from './setup.ts';

/** Replaces the emergency setup (contacts kept by address keep their state; new ones are told). */
export const replaceEmergencyAccess: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('replaceEmergencyAccess needs a user caller');
  if (!(await replaceSetup(deps, caller.userId, body, clientIp))) {
    throw new EmergencyAccessNotFound('you have no emergency access set up: create it with POST /api/v1/profile/emergency-access');
  }
  return (await showSetup(deps, caller.userId))!;
};
