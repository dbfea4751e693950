/** POST /api/v1/users/register (seed API 1). */
import type { Handler } from '../../deps.ts';
import { register, type RegisterInput } from './accounts.ts';
import { setSessionCookie } from './cookie-session.ts';

export const registerUser: Handler = async (input, deps) => {
  const { session, ...fields } = input.body;
  const { user_id, profile_id, token, refresh_token, expires_in, passkeys } = await register(
    deps,
    fields as unknown as RegisterInput,
    input.clientIp,
  );
  // The console's browser session: the token goes into an HttpOnly cookie, never into the body a script reads.
  if (session === 'cookie') {
    return { user_id, profile_id, session: 'cookie', csrf_token: setSessionCookie(input.ctx, deps, token, expires_in), expires_in };
  }
  return { user_id, profile_id, token, refresh_token, expires_in, passkeys };
};
