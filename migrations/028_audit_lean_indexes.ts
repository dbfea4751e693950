/**
 * The audit row keeps only the indexes a query uses: every append pays for each one (a write to each, and its share
 * of the WAL), on the data API's hot path once per release. What reads the chain: the person's activity and health
 * link accesses by (subject, seq) (026), the last release to a service by (subject, seq) too (src/features/access),
 * the operator's listing newest first by seq (the primary key), the verifier by seq. No query reads by (action, at)
 * or (subject, at) any more. `id` stays unique (it names an event); ids are time-ordered (uuid v7,
 * src/audit/audit.ts) from now on, so its index grows at one end instead of at random places.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_events', (t) => {
    t.dropIndex(['subject', 'at']);
    t.dropIndex(['action', 'at']);
  });
}
