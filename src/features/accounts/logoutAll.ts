/** POST /api/v1/auth/logout-all: ends every session of the caller. */
import type { Handler } from '../../deps.ts';
import { logoutAll as endAll, userCaller } from './sessions.ts';

export const logoutAll: Handler = async (input, deps) => ({ sessions_ended: await endAll(deps, userCaller(input.caller), input.clientIp) });
