/** POST /api/v1/profile/privilege-rings (seed API 6): a custom ring, or fields moved into a default ring. */
import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { createRing, type RingInput } from './rings.ts';

export const createPrivilegeRing: Handler = async (input, deps) => {
  const { created, ...result } = await createRing(deps, userCaller(input.caller).userId, input.body as unknown as RingInput, input.clientIp);
  return new Reply({ status: 'success', ...result }, { status: created ? 201 : 200 });
};
