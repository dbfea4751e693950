/** POST /api/v1/auth/logout: ends this session (and the one of a given refresh token). */
import type { Handler } from '../../deps.ts';
import { clearSessionCookie } from './cookie-session.ts';
import { logout as endSession, userCaller } from './sessions.ts';

export const logout: Handler = async (input, deps) => {
  const ended = await endSession(deps, userCaller(input.caller), input.body.refresh_token as string | undefined, input.clientIp);
  clearSessionCookie(input.ctx, deps);
  return { sessions_ended: ended };
};
