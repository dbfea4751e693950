import type { Handler } from '../../deps.ts';
import { readShared } from './documents.ts';

/** A service reads a document shared with it: references resolved now, or withheld with the reason. */
export const getDataDocument: Handler = async ({ caller, params, snapshot, clientIp }, deps) => {
  if (caller.kind !== 'service') throw new Error('getDataDocument needs a service caller');
  return readShared(deps, caller, params.document_id, snapshot, clientIp);
};
