/**
 * The console's sliding session: while the person uses the console, its page renews the cookies before the access
 * token expires (POST /api/v1/auth/refresh with `session: "cookie"`; the refresh cookie and the CSRF header are the
 * credential). A renewal is a refresh like any other — the refresh token rotates, and a spent one presented again
 * revokes the whole login — and, as the BCP asks of refresh tokens in a browser:
 * - it never extends the session past SESSION_MAX_SECONDS after the person last proved who they are (a sign-in or
 *   a step-up): the last token is cut to end at that instant;
 * - it needs the session in use: once its access token has expired unrenewed (15 minutes left alone), it is over;
 * - the rotated-out access token ends ROTATION_GRACE_SECONDS later, so requests already on their way still land.
 * The console's tabs renew one at a time (a Web Lock), so two never present the same refresh token.
 */
import type { Context } from 'koa';
import type { AppDeps } from '../../deps.ts';
import { InvalidGrant, TokenExpired, TokenMissing } from '../../errors.ts';
import { hashToken } from '../../crypto/tokens.ts';
import { endAccessTokenAt, findSessionByRefreshHash } from './accounts.repo.ts';
import { assertCsrfProof, refreshCookieToken, SESSION_MAX_SECONDS, setSessionCookies } from './cookie-session.ts';
import { refreshSession } from './sessions.ts';

/** How long a rotated-out access token still works. */
const ROTATION_GRACE_SECONDS = 30;

/** A renewal this close to the limit would give a token of less than a minute: sign in again instead. */
const LAST_RENEWAL_SECONDS = 60;

export interface RenewedCookieSession {
  user_id: string;
  session: 'cookie';
  csrf_token: string;
  expires_in: number;
}

/** Renews the cookie session of this request: new cookies on the response, the same CSRF value in the answer. */
export async function renewCookieSession(ctx: Context, deps: AppDeps, clientIp: string): Promise<RenewedCookieSession> {
  if (ctx.get('authorization') !== '') {
    throw new InvalidGrant(
      'session: cookie renews the console session from its cookies: send no Authorization header (or send a refresh_token instead)',
    );
  }
  const refreshToken = refreshCookieToken(ctx, deps);
  if (!refreshToken) throw new TokenMissing('the console session has no refresh cookie: sign in again');
  const row = await findSessionByRefreshHash(deps.db, hashToken(refreshToken));
  if (!row) throw new InvalidGrant('the console session is not valid: sign in again');
  assertCsrfProof(ctx, deps, row.family_id);
  const now = Date.now();
  const limit = row.auth_at ? new Date(row.auth_at).getTime() + SESSION_MAX_SECONDS * 1000 : now;
  // A revoked or spent token goes on to the refresh, which refuses it (and treats a spent one as reuse).
  if (!row.revoked_at && !row.refreshed_at) {
    if (new Date(row.access_expires_at).getTime() <= now) throw new TokenExpired('the console session ended after a while unused: sign in again');
    if (limit - now < LAST_RENEWAL_SECONDS * 1000) {
      throw new InvalidGrant(`this sign-in has reached its limit of ${SESSION_MAX_SECONDS / 3600} hours: sign in again`);
    }
  }
  const issued = await refreshSession(deps, refreshToken, clientIp);
  await endAccessTokenAt(deps.db, hashToken(issued.token), new Date(limit));
  await endAccessTokenAt(deps.db, row.access_hash, new Date(now + ROTATION_GRACE_SECONDS * 1000));
  const expiresIn = Math.min(issued.expires_in, Math.floor((limit - now) / 1000));
  const csrf = setSessionCookies(ctx, deps, { ...issued, expires_in: expiresIn, refreshMaxAge: Math.floor((limit - now) / 1000) });
  return { user_id: row.user_id, session: 'cookie', csrf_token: csrf, expires_in: expiresIn };
}
