import type { Handler } from '../../deps.ts';
import { collectRequest } from './requests.ts';

/** A service reads its own request, and collects the verification token once the person approved it. */
export const getDataRequest: Handler = async ({ caller, params }, deps) => {
  if (caller.kind !== 'service' || caller.accountId) throw new Error('getDataRequest needs a client credentials caller');
  return collectRequest(deps, caller.clientId, params.request_id);
};
