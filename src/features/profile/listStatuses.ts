/** GET /api/v1/profile/statuses: the owner's status posts, every ring. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { pageRequest } from './pagination.ts';
import { listOwnStatuses } from './statuses.ts';

export const listStatuses: Handler = (input, deps) => listOwnStatuses(deps, userCaller(input.caller).userId, pageRequest(input.query));
