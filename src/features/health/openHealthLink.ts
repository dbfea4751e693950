import type { Handler } from '../../deps.ts';
import { openLink } from './links.ts';

/** POST /api/v1/health-links/{link_token}/access: the shared records' JWE, released to the recipient with a right code. */
export const openHealthLink: Handler = async ({ params, body, clientIp }, deps) => ({
  ...(await openLink(deps, params.link_token, String(body.email), String(body.code), clientIp)),
});
