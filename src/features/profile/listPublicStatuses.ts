/** GET /api/v1/profiles/{handle}/statuses: a person's public status posts. */
import type { Handler } from '../../deps.ts';
import { pageRequest } from './pagination.ts';
import * as statuses from './statuses.ts';

export const listPublicStatuses: Handler = (input, deps) => statuses.listPublicStatuses(deps, input.params.handle, pageRequest(input.query));
