/** GET /api/v1/profile/activity: the audit log of the caller's own data, newest first. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { pageRequest } from '../profile/pagination.ts';
import { listActivity } from './activity.ts';

export const listProfileActivity: Handler = (input, deps) =>
  listActivity(deps, userCaller(input.caller).userId, pageRequest(input.query), typeof input.query.kind === 'string' ? input.query.kind : undefined);
