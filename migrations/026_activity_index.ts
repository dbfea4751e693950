/**
 * The person's own activity (GET /api/v1/profile/activity) reads their audit events newest first, a page at a time
 * by `seq`: an index on (subject, seq) serves it without sorting the person's whole history.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_events', (t) => {
    t.index(['subject', 'seq'], 'audit_events_subject_seq_index');
  });
}
