import type { Handler } from '../../deps.ts';
import { revokeShare as revoke } from './shares.ts';

/** Revokes a share: its status bit reads revoked at once, online and in the next status list fetched. */
export const revokeShare: Handler = async ({ caller, params, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('revokeShare needs a user caller');
  return { share: await revoke(deps, caller.userId, params.share_id, clientIp) };
};
