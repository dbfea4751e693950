import type { Handler } from '../../deps.ts';
import { flagAccess } from './log.ts';

/** Flags an emergency access for review. */
export const flagEmergencyAccess: Handler = async ({ caller, params, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('flagEmergencyAccess needs a user caller');
  return flagAccess(deps, caller.userId, params.access_log_id, typeof body.note === 'string' ? body.note : undefined, clientIp);
};
