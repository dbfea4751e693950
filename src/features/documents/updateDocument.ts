import type { Handler } from '../../deps.ts';
import { documentInput } from './createDocument.ts';
import { updateDocument as update } from './documents.ts';

/** Replaces a document: its fields, references, roles and linked services (an unlinked service loses it at once). */
export const updateDocument: Handler = async ({ caller, params, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('updateDocument needs a user caller');
  return { document: await update(deps, caller.userId, params.document_id, documentInput(body), clientIp) };
};
