/** GET /api/v1/auth/me. */
import type { Handler } from '../../deps.ts';
import { currentUser } from './accounts.ts';
import { userCaller } from './sessions.ts';

export const getCurrentUser: Handler = (input, deps) => currentUser(deps, userCaller(input.caller));
