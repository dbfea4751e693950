import type { Handler } from '../../deps.ts';
import { subjectOf } from '../../oidc/subjects.ts';

/**
 * A service reads the person's profile: exactly the fields the policy engine allows, and the revision that did.
 * The caller was resolved in this request (src/oidc/resource.ts: live token, live grant, enabled service and its
 * role, and the person's profile read in the same statement), so the release is decided on that snapshot; the
 * answer waits until the release is admitted and on record (concurrent reads share that commit).
 */
export const getDataProfile: Handler = async ({ caller, snapshot, clientIp }, deps) => {
  if (caller.kind !== 'service' || !caller.accountId || !caller.grantId) throw new Error('getDataProfile needs a service caller');
  const { clientId, role, grantId, scopes, accountId } = caller;
  const released = await deps.disclosure.release({
    reader: { kind: 'service', clientId, role },
    subject: accountId,
    basis: { kind: 'grant', grantId, clientId, scopes },
    snapshot,
    clientIp,
  });
  return { subject: subjectOf(deps.keyring, caller, accountId), fields: released.values, policy_revision: released.policyRevision };
};
