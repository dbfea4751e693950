import type { Handler } from '../../deps.ts';
import { endAccess } from './log.ts';

/** Ends an open emergency access early. */
export const endEmergencyAccess: Handler = async ({ caller, params, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('endEmergencyAccess needs a user caller');
  return endAccess(deps, caller.userId, params.access_log_id, clientIp);
};
