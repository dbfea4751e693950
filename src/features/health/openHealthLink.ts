import type { Handler } from '../../deps.ts';
import { openLink } from './links.ts';

/** POST /api/v1/health-links/{link_token}/access: the shared records' JWE, released to the recipient with a right code. */
export const openHealthLink: Handler = async ({ ctx, params, body, clientIp }, deps) => {
  // The path's token is the link's credential: the request log names the template, not the token.
  ctx.state.logPath = '/api/v1/health-links/{link_token}/access';
  return { ...(await openLink(deps, params.link_token, String(body.email), String(body.code), clientIp)) };
};
