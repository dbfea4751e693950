import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { removeRecord } from './records.ts';

export const deleteHealthRecord: Handler = async ({ caller, params, clientIp }, deps) => {
  await removeRecord(deps, userCaller(caller).userId, params.record_id, clientIp);
  return { record_id: params.record_id };
};
