/** Platform tables: the mail/webhook outbox and the hash-chained audit log. */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('outbox', (t) => {
    t.uuid('id').primary();
    t.text('kind').notNullable(); // mail | webhook
    t.text('idempotency_key').notNullable().unique();
    // The message, sealed under a KEK-derived key: mail bodies carry one-time codes and reset links.
    t.binary('payload').notNullable();
    t.text('recipient_hint').notNullable(); // for logs and operators: the address, never the body
    t.text('subject').notNullable();
    t.text('state').notNullable().defaultTo('pending'); // pending | sent | held | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('delivered_at', { useTz: true });
    t.index(['state', 'next_attempt_at']);
  });

  await db.schema.createTable('audit_events', (t) => {
    t.bigIncrements('seq').primary();
    t.uuid('id').notNullable().unique();
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('action').notNullable();
    t.text('actor').notNullable(); // user:<id> | service:<client_id> | operator | anonymous
    t.text('subject'); // whose data: user:<id>
    t.text('client_ip');
    t.jsonb('data').notNullable().defaultTo('{}');
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable().unique();
    t.index(['subject', 'at']);
    t.index(['action', 'at']);
  });
}
