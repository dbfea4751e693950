/** POST /api/v1/auth/reset-password: a new password with the e-mailed token. */
import type { Handler } from '../../deps.ts';
import { resetPassword as reset } from './password-reset.ts';

export const resetPassword: Handler = (input, deps) => reset(deps, input.body.token as string, input.body.new_password as string, input.clientIp);
