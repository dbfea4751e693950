import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { getRecord } from './records.ts';

export const getHealthRecord: Handler = async ({ caller, params }, deps) => ({
  record: await getRecord(deps, userCaller(caller).userId, params.record_id),
});
