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
  // The console's browser session: the tokens go into HttpOnly cookies, never into the body a script reads.
  if (session === 'cookie') {
    const csrf_token = await setSessionCookie(input.ctx, deps, { token, refresh_token, expires_in });
    return { user_id, profile_id, session: 'cookie', csrf_token, expires_in };
  }
  return { user_id, profile_id, token, refresh_token, expires_in, passkeys };
};
