/** GET /api/v1/profiles: the public directory. */
import type { Handler } from '../../deps.ts';
import { pageRequest } from './pagination.ts';
import * as profile from './profile.ts';

export const listPublicProfiles: Handler = (input, deps) => profile.listPublicProfiles(deps, pageRequest(input.query));
