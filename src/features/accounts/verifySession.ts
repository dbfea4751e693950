/** POST /api/v1/auth/verify: is this session token active? */
import type { Handler } from '../../deps.ts';
import { inspectToken } from './sessions.ts';

export const verifySession: Handler = (input, deps) => inspectToken(deps, input.body.token as string);
