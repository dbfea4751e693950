/** POST /api/v1/auth/verify-email: the one-time code from the verification mail. */
import type { Handler } from '../../deps.ts';
import { verifyEmailCode } from './email.ts';
import { userCaller } from './sessions.ts';

export const verifyEmail: Handler = async (input, deps) => {
  await verifyEmailCode(deps, userCaller(input.caller), String(input.body.code), input.clientIp);
  return { email_verified: true };
};
