/** POST /api/v1/auth/refresh: rotates the refresh token — of a token pair, or of the console's cookie session. */
import type { Handler } from '../../deps.ts';
import { hashToken } from '../../crypto/tokens.ts';
import { InvalidGrant, InvalidRequest } from '../../errors.ts';
import { findSessionByRefreshHash, isCookieBoundFamily } from './accounts.repo.ts';
import { renewCookieSession } from './cookie-renewal.ts';
import { refreshSession as rotate } from './sessions.ts';

export const refreshSession: Handler = async (input, deps) => {
  const { refresh_token, session } = input.body as { refresh_token?: string; session?: 'cookie' };
  if (session === 'cookie' && refresh_token === undefined) return { ...(await renewCookieSession(input.ctx, deps, input.clientIp)) };
  if (refresh_token === undefined || session !== undefined) {
    throw InvalidRequest.validation([
      { path: 'refresh_token', message: 'is required (or, alone, session: cookie renews the console session from its cookies)' },
    ]);
  }
  // A console cookie session renews only from its cookie, where its absolute limit holds: its refresh token lifted
  // out of the cookie jar and sent here is refused, and spends nothing.
  const row = await findSessionByRefreshHash(deps.db, hashToken(refresh_token));
  if (row && (await isCookieBoundFamily(deps.db, row.family_id))) {
    throw new InvalidGrant('this refresh token belongs to a console cookie session: it renews only from its cookie, with session: cookie');
  }
  const { token, refresh_token: next, expires_in } = await rotate(deps, refresh_token, input.clientIp);
  return { token, refresh_token: next, expires_in };
};
