/** POST /api/v1/users/login. */
import type { Handler } from '../../deps.ts';
import { login, type LoginInput } from './accounts.ts';
import { setSessionCookie } from './cookie-session.ts';

export const loginUser: Handler = async (input, deps) => {
  const { session, ...credentials } = input.body;
  const { user_id, token, refresh_token, expires_in } = await login(deps, credentials as unknown as LoginInput, input.clientIp);
  // The console's browser session: the tokens go into HttpOnly cookies, never into the body a script reads.
  if (session === 'cookie') {
    return { user_id, session: 'cookie', csrf_token: await setSessionCookie(input.ctx, deps, { token, refresh_token, expires_in }), expires_in };
  }
  return { user_id, token, refresh_token, expires_in };
};
