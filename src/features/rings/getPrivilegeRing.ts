/** GET /api/v1/profile/privilege-rings/{ring_id}: one ring. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { getRing } from './rings.ts';

export const getPrivilegeRing: Handler = (input, deps) => getRing(deps, userCaller(input.caller).userId, input.params.ring_id);
