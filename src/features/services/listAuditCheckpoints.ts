import { listCheckpoints } from '../../audit/checkpoints.ts';
import type { Handler } from '../../deps.ts';
import { InvalidCursor } from '../../errors.ts';
import { assertOperator } from './operators.ts';

/** The interval a cursor holds (the last checkpoint shown); anything else is `invalid_cursor`. */
function decodeCursor(cursor: string): Date {
  const before = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(before) || Number.isNaN(Date.parse(before))) {
    throw new InvalidCursor('cursor is not one this API gave out: start again without it', {
      details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
    });
  }
  return new Date(before);
}

/**
 * GET /api/v1/admin/audit/checkpoints: the signed checkpoints of the audit log, newest first (operators only), to be
 * kept or published elsewhere (`npm run audit -- checkpoints` prints the same): each is a JWS anyone can check with
 * the issuer keys, and a copy kept outside the database is what finds the newest ones deleted.
 */
export const listAuditCheckpoints: Handler = async ({ caller, query }, deps) => {
  await assertOperator(deps, caller);
  const limit = (query.limit as number | undefined) ?? 20;
  const before = typeof query.cursor === 'string' ? decodeCursor(query.cursor) : undefined;
  const rows = await listCheckpoints(deps.db, { limit: limit + 1, before });
  const shown = rows.slice(0, limit);
  return {
    checkpoints: shown,
    next_cursor: rows.length > limit ? Buffer.from(shown[shown.length - 1].interval_start, 'utf8').toString('base64url') : null,
  };
};
