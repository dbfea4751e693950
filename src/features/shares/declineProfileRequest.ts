import type { Handler } from '../../deps.ts';
import { declineRequest } from './requests.ts';

/** The person declines a request: nothing is shared. */
export const declineProfileRequest: Handler = async ({ caller, params, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('declineProfileRequest needs a user caller');
  return declineRequest(deps, caller.userId, params.request_id, clientIp);
};
