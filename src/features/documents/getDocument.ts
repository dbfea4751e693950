import type { Handler } from '../../deps.ts';
import { getDocument as get } from './documents.ts';

/** One of the person's documents, its references with their current values. */
export const getDocument: Handler = async ({ caller, params }, deps) => {
  if (caller.kind !== 'user') throw new Error('getDocument needs a user caller');
  return { document: await get(deps, caller.userId, params.document_id) };
};
