import type { Handler } from '../../deps.ts';
import { deleteDocument as remove } from './documents.ts';

/** Deletes a document; the services it was linked to can no longer read it. */
export const deleteDocument: Handler = async ({ caller, params, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('deleteDocument needs a user caller');
  return remove(deps, caller.userId, params.document_id, clientIp);
};
