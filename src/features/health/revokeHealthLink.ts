import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { revokeOwnLink } from './links.ts';

export const revokeHealthLink: Handler = async ({ caller, params, clientIp }, deps) => {
  await revokeOwnLink(deps, userCaller(caller).userId, params.link_id, clientIp);
  return { link_id: params.link_id, state: 'revoked' };
};
