/** POST /api/v1/users/login. */
import type { Handler } from '../../deps.ts';
import { login, type LoginInput } from './accounts.ts';

export const loginUser: Handler = async (input, deps) => {
  const { user_id, token, refresh_token, expires_in } = await login(deps, input.body as unknown as LoginInput, input.clientIp);
  return { user_id, token, refresh_token, expires_in };
};
