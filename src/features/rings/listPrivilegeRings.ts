/** GET /api/v1/profile/privilege-rings: every ring, default and custom, with its fields and who it admits. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { listRings } from './rings.ts';

export const listPrivilegeRings: Handler = (input, deps) => listRings(deps, userCaller(input.caller).userId);
