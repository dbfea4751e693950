/** POST /api/v1/auth/verify-email/resend. */
import type { Handler } from '../../deps.ts';
import { resendVerificationCode } from './email.ts';
import { userCaller } from './sessions.ts';

export const resendVerificationEmail: Handler = (input, deps) => resendVerificationCode(deps, userCaller(input.caller));
