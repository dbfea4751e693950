/** POST /api/v1/auth/logout-all: ends every session of the caller. */
import type { Handler } from '../../deps.ts';
import { clearSessionCookie } from './cookie-session.ts';
import { logoutAll as endAll, userCaller } from './sessions.ts';

export const logoutAll: Handler = async (input, deps) => {
  const ended = await endAll(deps, userCaller(input.caller), input.clientIp);
  clearSessionCookie(input.ctx, deps);
  return { sessions_ended: ended };
};
