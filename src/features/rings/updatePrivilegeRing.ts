/** PUT /api/v1/profile/privilege-rings/{ring_id}: replace a ring's fields (and, for a custom ring, who it admits). */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { updateRing, type RingInput } from './rings.ts';

export const updatePrivilegeRing: Handler = (input, deps) =>
  updateRing(deps, userCaller(input.caller).userId, input.params.ring_id, input.body as unknown as RingInput, input.clientIp);
