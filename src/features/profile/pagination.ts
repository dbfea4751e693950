/**
 * Lists are paginated the same way everywhere: `?limit=` (default 20, at most 100) and an opaque `cursor` taken
 * from the previous page's `next_cursor`.
 */
import { InvalidCursor, type InvalidRequest } from '../../errors.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

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

/** Characters of a string inside a cursor at most: positions are handles and numbers. */
const MAX_POSITION_TEXT = 64;
/** Largest value of a PostgreSQL bigint (a `seq` column). */
const MAX_BIGINT = 9223372036854775807n;

/**
 * Whether every value of a decoded position is one a list could have put there: a short string of printable
 * characters (PostgreSQL text holds no NUL, and a lone surrogate is no text at all) or a safe integer. Checked for
 * every cursor before its list's own check, so no decoded value reaches SQL unchecked.
 */
function isPlainPosition(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((v) =>
    typeof v === 'string'
      ? v.length <= MAX_POSITION_TEXT &&
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
        !/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v)
      : Number.isSafeInteger(v),
  );
}

/** Whether `text` is a whole number a bigint column can hold, written as the list writes it (no sign, no zeros first). */
export function isBigintText(text: unknown): text is string {
  return typeof text === 'string' && /^(0|[1-9]\d{0,18})$/.test(text) && BigInt(text) <= MAX_BIGINT;
}

/** The position a cursor holds; a cursor that was not made by encodeCursor is refused with a 400. */
export function decodeCursor<T>(cursor: string, isPosition: (value: Record<string, unknown>) => value is Record<string, unknown> & T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (isPlainPosition(value) && value.v === 1 && isPosition(value)) return value as T;
  throw invalidCursor();
}

/** 400 `invalid_cursor`: the one answer of every list to a cursor it did not issue. */
function invalidCursor(): InvalidRequest {
  return new InvalidCursor('cursor is not valid: pass the next_cursor of the previous page unchanged, or leave it out for the first page', {
    details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
  });
}
