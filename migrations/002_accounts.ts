/**
 * Accounts and the profile: users, their sessions, the profile container and its sealed fields, e-mail codes,
 * password resets, login throttling, avatars and status posts. No secret is stored in the clear: tokens and codes
 * as hashes, passwords as argon2id, field values, biometrics, avatars and posts sealed under the profile's DEK.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    // HMAC of the normalized address under a KEK-derived key: finds the account without keeping the address in
    // the clear (the address itself is the profile's sealed `email` field).
    t.text('email_index').notNullable().unique();
    t.text('handle').notNullable();
    t.text('handle_lower').notNullable().unique();
    t.text('password_hash').notNullable();
    t.timestamp('password_changed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('email_verified_at', { useTz: true });
    t.text('public_key_pem');
    t.text('public_key_type');
    t.text('public_key_fingerprint');
    t.binary('biometrics'); // sealed under the profile's DEK; never returned
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // One row per access/refresh pair. Rotation adds a row to the same family; reuse of a spent refresh token
  // revokes the family.
  await db.schema.createTable('sessions', (t) => {
    t.uuid('id').primary();
    t.uuid('family_id').notNullable().index();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE').index();
    t.text('access_hash').notNullable().unique();
    t.timestamp('access_expires_at', { useTz: true }).notNullable();
    t.text('refresh_hash').notNullable().unique();
    t.timestamp('refresh_expires_at', { useTz: true }).notNullable();
    t.timestamp('refreshed_at', { useTz: true }); // the refresh token was spent on this instant
    t.timestamp('revoked_at', { useTz: true });
    t.text('revoked_reason');
    t.text('client_ip');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('profiles', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().unique().references('id').inTable('users').onDelete('CASCADE');
    t.binary('wrapped_dek').notNullable();
    t.text('kek_id').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('profile_fields', (t) => {
    t.uuid('profile_id').notNullable().references('id').inTable('profiles').onDelete('CASCADE');
    t.text('field').notNullable();
    t.binary('value'); // sealed JSON, AAD profile_fields:<profile_id>:<field>; null when unset
    // A default ring's name; custom rings are stored as `custom:<id>`.
    t.text('ring').notNullable();
    t.text('provenance').notNullable().defaultTo('user');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['profile_id', 'field']);
  });

  await db.schema.createTable('email_verifications', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().unique().references('id').inTable('users').onDelete('CASCADE');
    t.text('email_index').notNullable(); // the address the code was sent to; a changed address voids it
    t.text('code_hash').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('sent_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });

  await db.schema.createTable('password_resets', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE').index();
    t.text('token_hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.text('client_ip');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // Failed logins per key (`user:<id>`, `login:<hash of an unknown identifier>`, `ip:<address>`) in a fixed window.
  await db.schema.createTable('login_throttle', (t) => {
    t.text('key').primary();
    t.integer('failures').notNullable();
    t.timestamp('window_started_at', { useTz: true }).notNullable();
  });

  await db.schema.createTable('avatars', (t) => {
    t.uuid('profile_id').primary().references('id').inTable('profiles').onDelete('CASCADE');
    t.binary('image').notNullable(); // re-encoded without metadata, sealed; AAD avatars:<profile_id>
    t.text('content_type').notNullable();
    t.text('sha256').notNullable();
    t.integer('bytes').notNullable();
    t.integer('width').notNullable();
    t.integer('height').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('status_posts', (t) => {
    t.uuid('id').primary();
    // Pages are cut on this counter: newer posts have larger numbers, and it never ties.
    t.bigIncrements('seq', { primaryKey: false });
    t.uuid('profile_id').notNullable().references('id').inTable('profiles').onDelete('CASCADE');
    t.binary('content').notNullable(); // sealed; AAD status_posts:<id>
    t.text('ring').notNullable().defaultTo('public');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(['seq']);
    t.index(['profile_id', 'seq']);
  });
}
