import type { Handler } from '../../deps.ts';
import { issueShare } from './shares.ts';

/** Seed API 3: share one fact with a service as an SD-JWT VC that carries only it. */
export const createShare: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('createShare needs a user caller');
  const issued = await issueShare(deps, { userId: caller.userId, clientId: String(body.service_id), fields: [String(body.info_field)], clientIp });
  return { share_id: issued.share_id, verification_token: issued.verification_token, expires_at: issued.expires_at, info_field: body.info_field };
};
