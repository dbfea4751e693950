/** GET /api/v1/profile/visibility: for each reader, the fields it can see now and why it cannot see the rest. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { visibility } from './rings.ts';

export const getVisibility: Handler = (input, deps) => visibility(deps, userCaller(input.caller).userId);
