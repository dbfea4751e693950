import { Reply, type Handler } from '../../deps.ts';
import { HealthLinkGone } from '../../errors.ts';
import { liveLink } from './links.ts';
import { GONE_PAGE, LINK_PAGE, PAGE_CSP } from './page.ts';

const headers = { 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };

/** GET /share/{link_token}: the doctor's page; a page that says so (404) when the link expired or was revoked. */
export const showHealthLinkPage: Handler = async ({ ctx, params }, deps) => {
  // The path's token is the link's credential: the request log names the template, not the token.
  ctx.state.logPath = '/share/{link_token}';
  try {
    await liveLink(deps, params.link_token);
  } catch (err) {
    if (err instanceof HealthLinkGone) return new Reply(GONE_PAGE, { status: 404, type: 'text/html; charset=utf-8', headers });
    throw err;
  }
  return new Reply(LINK_PAGE, { type: 'text/html; charset=utf-8', headers });
};
