import type { Handler } from '../../deps.ts';
import { revokeAccess } from './access.ts';

/** Seed API 8: remove a service's grant and everything issued under it. */
export const revokeProfileAccess: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('revokeProfileAccess needs a user caller');
  return { ...(await revokeAccess(deps, caller.userId, String(body.service_id), clientIp)) };
};
