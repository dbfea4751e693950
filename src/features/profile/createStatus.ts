/** POST /api/v1/profile/statuses. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as statuses from './statuses.ts';

export const createStatus: Handler = (input, deps) => {
  const { content, ring } = input.body as statuses.StatusInput;
  return statuses.createStatus(deps, userCaller(input.caller).userId, { content, ring });
};
