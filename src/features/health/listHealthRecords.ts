import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { listOwnRecords } from './records.ts';

/** GET /api/v1/profile/health-records: the person's records, oldest first, optionally of one type. */
export const listHealthRecords: Handler = async ({ caller, query }, deps) => ({
  ...(await listOwnRecords(deps, userCaller(caller).userId, {
    type: query.type as string | undefined,
    limit: query.limit === undefined ? undefined : Number(query.limit),
    cursor: query.cursor as string | undefined,
  })),
});
