import type { Handler } from '../../deps.ts';
import { accessLog } from './log.ts';

/** Every emergency access to the person's information, newest first. */
export const listEmergencyAccessLog: Handler = async ({ caller, query }, deps) => {
  if (caller.kind !== 'user') throw new Error('listEmergencyAccessLog needs a user caller');
  return accessLog(deps, caller.userId, (query.limit as number | undefined) ?? 20, typeof query.cursor === 'string' ? query.cursor : undefined);
};
