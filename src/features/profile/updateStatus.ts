/** PUT /api/v1/profile/statuses/{status_id}. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { editStatus, type StatusInput } from './statuses.ts';

export const updateStatus: Handler = (input, deps) => {
  const { content, ring } = input.body as StatusInput;
  return editStatus(deps, userCaller(input.caller).userId, input.params.status_id, { content, ring });
};
