/**
 * Lists are paginated the same way everywhere: `?limit=` (default 20, at most 100) and an opaque `cursor` taken
 * from the previous page's `next_cursor`.
 */
import { InvalidRequest } from '../../errors.ts';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export interface PageRequest {
  limit: number;
  cursor: string | undefined;
}

/** The page size and cursor of a validated query (the spec bounds `limit`). */
export function pageRequest(query: Record<string, unknown>): PageRequest {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, Math.max(1, Number(query.limit)));
  const cursor = typeof query.cursor === 'string' && query.cursor !== '' ? query.cursor : undefined;
  return { limit, cursor };
}

/** An opaque cursor for a position in a list. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...position }), 'utf8').toString('base64url');
}

/** The position a cursor holds; a cursor that was not made by encodeCursor is refused with a 400. */
export function decodeCursor<T>(cursor: string, isPosition: (value: Record<string, unknown>) => value is Record<string, unknown> & T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (value && typeof value === 'object' && (value as { v?: unknown }).v === 1 && isPosition(value as Record<string, unknown>)) return value as T;
  throw new InvalidRequest('cursor is not valid: pass the next_cursor of the previous page unchanged, or leave it out for the first page', {
    code: 'invalid_cursor',
    details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
  });
}
