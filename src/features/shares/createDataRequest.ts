import type { Handler } from '../../deps.ts';
import { createRequest } from './requests.ts';

/** A service, calling as itself, asks a person to share chosen facts for a stated purpose. */
export const createDataRequest: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'service' || caller.accountId) throw new Error('createDataRequest needs a client credentials caller');
  const input = { subject: String(body.subject), fields: body.fields as string[], purpose: String(body.purpose) };
  return createRequest(deps, caller.clientId, input, clientIp);
};
