/** DELETE /api/v1/profile/statuses/{status_id}. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { removeStatus } from './statuses.ts';

export const deleteStatus: Handler = async (input, deps) => {
  await removeStatus(deps, userCaller(input.caller).userId, input.params.status_id);
  return { status_id: input.params.status_id };
};
