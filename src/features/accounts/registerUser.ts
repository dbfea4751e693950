/** POST /api/v1/users/register (seed API 1). */
import type { Handler } from '../../deps.ts';
import { register, type RegisterInput } from './accounts.ts';

export const registerUser: Handler = (input, deps) => register(deps, input.body as unknown as RegisterInput, input.clientIp);
