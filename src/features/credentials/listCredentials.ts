/** GET /api/v1/profile/credentials: the owner's credentials, newest first. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { pageRequest } from '../profile/pagination.ts';
import * as credentials from './credentials.ts';

export const listCredentials: Handler = (input, deps) => credentials.listCredentials(deps, userCaller(input.caller), pageRequest(input.query));
