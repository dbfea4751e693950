/**
 * Documents held by reference (issue 16), the webhook endpoints of services and the change events sent to them,
 * and each service's subject type (OpenID Connect pairwise `sub`).
 * - documents: a person's document (a lease, a policy, a registration): its own fields sealed under the profile's
 *   data key, the profile fields it references by name, and the roles it is intended for. document_links: the
 *   services that may read it; a link is the basis a release of the document is admitted under.
 * - webhook_endpoints: per service, its signing secret (Standard Webhooks, sealed under a KEK-derived key) and the
 *   run of failures that disables it. webhook_deliveries: every event a service is owed, the record the person and
 *   the operator read (the outbox only queues it).
 * - services.subject_type: `pairwise` for services registered from now on; the ones registered before keep the
 *   `public` subject (the user id) they already stored.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('documents', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('kind').notNullable(); // lease | insurance_policy | registration | other
    t.text('title').notNullable();
    // The document's own fields (JSON), sealed under the profile's data key, bound to the document's id.
    t.binary('own_fields').notNullable();
    t.jsonb('references').notNullable().defaultTo('[]'); // profile field names
    t.jsonb('roles').notNullable().defaultTo('[]'); // the roles it is intended for
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['user_id', 'created_at']);
  });

  await db.schema.createTable('document_links', (t) => {
    t.uuid('id').primary();
    t.uuid('document_id').notNullable().references('documents.id').onDelete('CASCADE');
    t.text('client_id').notNullable().references('services.client_id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(['document_id', 'client_id']);
    t.index(['client_id']);
  });

  await db.schema.createTable('webhook_endpoints', (t) => {
    t.text('client_id').primary().references('services.client_id').onDelete('CASCADE');
    t.binary('secret').notNullable(); // `whsec_…`, sealed
    t.integer('failures').notNullable().defaultTo(0); // attempts failed in a row
    t.timestamp('disabled_at', { useTz: true });
    t.text('disabled_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('webhook_deliveries', (t) => {
    t.uuid('id').primary(); // the event's `webhook-id` is msg_<id without dashes>
    t.text('client_id').notNullable().references('services.client_id').onDelete('CASCADE');
    t.uuid('user_id').references('users.id').onDelete('CASCADE');
    t.text('type').notNullable(); // profile.updated | grant.revoked
    t.integer('profile_version');
    t.jsonb('body').notNullable(); // the thin event as sent: names of fields, never values
    t.text('state').notNullable().defaultTo('pending'); // pending | delivered | failed | dropped
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('last_status');
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('delivered_at', { useTz: true });
    t.index(['user_id', 'created_at']);
    t.index(['state', 'created_at']);
    t.index(['client_id', 'created_at']);
  });

  await db.schema.alterTable('services', (t) => {
    t.text('subject_type').notNullable().defaultTo('public');
  });
  // Existing rows keep `public`; the default for new ones is pairwise.
  await db.raw(`alter table services alter column subject_type set default 'pairwise'`);
}
