/**
 * Selective disclosure (seed API 3): the issuer keys Ringfence signs SD-JWT VCs with (its own, not the provider's;
 * sealed at rest like them), the Token Status Lists those credentials point into, the shares issued (one row per
 * credential: what it carries, for whom, where its status bit is), and the requests services make for them.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('issuer_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    t.binary('private_jwk').notNullable(); // sealed under a KEK-derived key
    t.text('state').notNullable(); // active | retired
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('retired_at', { useTz: true });
  });

  await db.schema.createTable('status_lists', (t) => {
    t.uuid('id').primary();
    t.integer('size').notNullable(); // statuses in the list (1 bit each)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('share_requests', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('client_id').notNullable().references('client_id').inTable('services').onDelete('CASCADE');
    t.jsonb('fields').notNullable(); // the info fields asked for
    t.text('purpose').notNullable();
    t.text('state').notNullable(); // pending | approved | declined
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('decided_at', { useTz: true });
    t.index(['user_id', 'created_at']);
    t.index(['client_id', 'user_id', 'created_at']);
  });

  await db.schema.createTable('shares', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('client_id').notNullable().references('client_id').inTable('services').onDelete('CASCADE');
    t.jsonb('fields').notNullable(); // the info fields the credential carries (names only, never values)
    t.text('jti').notNullable().unique();
    t.uuid('status_list_id').notNullable().references('id').inTable('status_lists');
    t.integer('status_idx').notNullable();
    t.uuid('request_id').references('id').inTable('share_requests').onDelete('SET NULL');
    // The credential itself, sealed, while a request's service has yet to collect it (request shares only).
    t.binary('sealed_token');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.unique(['status_list_id', 'status_idx']);
    t.index(['user_id', 'created_at']);
    t.index(['user_id', 'client_id']);
  });
}
