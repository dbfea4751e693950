import type { Handler } from '../../deps.ts';
import { approveRequest } from './requests.ts';

/** The person approves a request: the share is issued for the service to collect. */
export const approveProfileRequest: Handler = async ({ caller, params, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('approveProfileRequest needs a user caller');
  return approveRequest(deps, caller.userId, params.request_id, clientIp);
};
