/**
 * Outbox claims (issue 21, Workers): every claim of a row writes a fresh token beside it, and every completion of
 * the row (sent, retry, gone, given up) is fenced by it — `where id = ? and claim = ?` — so a worker whose lease
 * ran out and was taken over can no longer write over the result of the worker that holds the row now. The lease
 * expiry is `next_attempt_at` (a claimed row stays `pending`, due again only when its lease ends, which is also
 * how a crashed instance's rows are recovered); `claimed_at` says since when the current claim is held.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('outbox', (t) => {
    t.uuid('claim');
    t.timestamp('claimed_at', { useTz: true });
  });
}
