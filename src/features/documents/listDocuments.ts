import type { Handler } from '../../deps.ts';
import { InvalidCursor } from '../../errors.ts';
import { listDocuments as list } from './documents.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The person's documents, in pages (the cursor is the last document's id). */
export const listDocuments: Handler = async ({ caller, query }, deps) => {
  if (caller.kind !== 'user') throw new Error('listDocuments needs a user caller');
  const cursor = query.cursor === undefined ? undefined : String(query.cursor);
  if (cursor !== undefined && !UUID.test(cursor)) throw new InvalidCursor('cursor is not one this API gave: use next_cursor of the last page');
  const { documents, next } = await list(deps, caller.userId, cursor, Number(query.limit ?? 20));
  return { documents, next_cursor: next ?? null };
};
