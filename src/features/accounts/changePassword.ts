/** PUT /api/v1/auth/password: a new password, with the current one. */
import type { Handler } from '../../deps.ts';
import { changePassword as change } from './accounts.ts';
import { userCaller } from './sessions.ts';

export const changePassword: Handler = (input, deps) =>
  change(deps, userCaller(input.caller), input.body as { current_password: string; new_password: string }, input.clientIp);
