import type { Handler } from '../../deps.ts';
import { requestCode } from './links.ts';

/** POST /api/v1/health-links/{link_token}/code: a one-time code to the link's recipient, if that is the address given. */
export const requestHealthLinkCode: Handler = async ({ ctx, params, body, clientIp }, deps) => {
  // The path's token is the link's credential: the request log names the template, not the token.
  ctx.state.logPath = '/api/v1/health-links/{link_token}/code';
  await requestCode(deps, params.link_token, String(body.email), clientIp);
  return { sent: 'if this is the address the link was sent to, a code is on its way' };
};
