import type { Handler } from '../../http/types.ts';
import { releaseToService } from '../access/access.ts';

/** A service reads the person's profile: exactly the fields the policy engine allows, and the revision that did. */
export const getDataProfile: Handler = async ({ caller, clientIp }, deps) => {
  if (caller.kind !== 'service' || !caller.accountId) throw new Error('getDataProfile needs a service caller');
  const released = await releaseToService(deps, caller, clientIp);
  return { subject: caller.accountId, fields: released.fields, policy_revision: released.policyRevision };
};
