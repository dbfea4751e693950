/** POST /api/v1/auth/refresh: rotates the refresh token. */
import type { Handler } from '../../deps.ts';
import { refreshSession as rotate } from './sessions.ts';

export const refreshSession: Handler = async (input, deps) => {
  const { token, refresh_token, expires_in } = await rotate(deps, input.body.refresh_token as string, input.clientIp);
  return { token, refresh_token, expires_in };
};
