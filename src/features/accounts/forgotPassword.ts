/** POST /api/v1/auth/forgot-password: the same answer whether or not an account uses the address. */
import type { Handler } from '../../deps.ts';
import { RESET_TOKEN_SECONDS, requestPasswordReset } from './password-reset.ts';

export const forgotPassword: Handler = async (input, deps) => {
  await requestPasswordReset(deps, input.body.email as string, input.clientIp);
  return {
    message: `if an account uses this address, a reset token is on its way to it; it works once, within ${RESET_TOKEN_SECONDS / 60} minutes`,
  };
};
