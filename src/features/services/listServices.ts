import type { Handler } from '../../deps.ts';
import { InvalidCursor } from '../../errors.ts';
import { listServices as list } from '../../oidc/services.ts';
import { assertOperator } from './operators.ts';
import { serialize } from './createService.ts';

/** The client_id a cursor holds; anything else (a NUL, a name longer than any client_id) is `invalid_cursor`. */
function decodeCursor(cursor: string): string {
  const after = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^svc_[A-Za-z0-9_-]{1,124}$/.test(after)) {
    throw new InvalidCursor('cursor is not one this API gave out: start again without it', {
      details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
    });
  }
  return after;
}

export const listServices: Handler = async ({ caller, query }, deps) => {
  await assertOperator(deps, caller);
  const page = await list(deps.db, {
    limit: (query.limit as number | undefined) ?? 20,
    after: typeof query.cursor === 'string' ? decodeCursor(query.cursor) : undefined,
  });
  return {
    services: page.services.map(serialize),
    next_cursor: page.next ? Buffer.from(page.next, 'utf8').toString('base64url') : null,
  };
};
