/**
 * The pages of the shares' lists (the person's shares and requests), paginated as every list is: `?limit=`
 * (default 20, at most 100) and an opaque `cursor` from the previous page's `next_cursor`. A cursor holds the last
 * row's exact creation time and id; one this list did not issue is a 400.
 */
import { InvalidCursor } from '../../errors.ts';
import type { ListPosition } from './shares.repo.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Page {
  limit: number;
  after: ListPosition | undefined;
}

/** The page a validated query asks for (the spec bounds `limit` and the cursor's characters). */
export function pageOf(query: Record<string, unknown>): Page {
  const limit = query.limit === undefined ? 20 : Math.min(100, Math.max(1, Number(query.limit)));
  if (typeof query.cursor !== 'string' || query.cursor === '') return { limit, after: undefined };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const v = value as { v?: unknown; t?: unknown; i?: unknown } | undefined;
  if (v?.v !== 1 || typeof v.t !== 'string' || !/^\d{1,19}$/.test(v.t) || typeof v.i !== 'string' || !UUID.test(v.i)) {
    throw new InvalidCursor('cursor is not valid: pass the next_cursor of the previous page unchanged, or leave it out for the first page', {
      details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
    });
  }
  return { limit, after: { atUs: v.t, id: v.i } };
}

/** The rows of a page read with one row more than its limit, and the cursor of the next page (null at the end). */
export function pageFrom<R extends { id: string; at_us: string }>(rows: R[], limit: number): { rows: R[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return {
    rows: shown,
    next_cursor: more && last ? Buffer.from(JSON.stringify({ v: 1, t: last.at_us, i: last.id })).toString('base64url') : null,
  };
}
