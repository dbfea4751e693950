import type { Handler } from '../../deps.ts';
import { InvalidCursor } from '../../errors.ts';
import { assertOrganisation, rosterPage } from './responders.ts';

function decodeCursor(cursor: string): string {
  const after = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(after) || Buffer.from(after, 'utf8').toString('base64url') !== cursor) {
    throw new InvalidCursor('cursor is not one this API gave out: start again without it', {
      details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
    });
  }
  return after;
}

/** The calling organisation's roster, by responder_id. */
export const listResponders: Handler = async ({ caller, query }, deps) => {
  const org = assertOrganisation(caller);
  const page = await rosterPage(
    deps,
    org,
    (query.limit as number | undefined) ?? 20,
    typeof query.cursor === 'string' ? decodeCursor(query.cursor) : undefined,
  );
  return { responders: page.responders, next_cursor: page.next ? Buffer.from(page.next, 'utf8').toString('base64url') : null };
};
