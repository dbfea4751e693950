/** DELETE /api/v1/profile/privilege-rings/{ring_id}: a custom ring goes; its fields return to their default rings. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { deleteRing } from './rings.ts';

export const deletePrivilegeRing: Handler = (input, deps) => deleteRing(deps, userCaller(input.caller).userId, input.params.ring_id, input.clientIp);
