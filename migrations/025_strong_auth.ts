/**
 * Strong authentication and the portable profile (issue 18): passkeys (WebAuthn public-key credentials only, never
 * biometric data), single-use ceremony challenges (stored as hashes), when and how each session last authenticated
 * (step-up), the system key root and the progress of master-key rotations, and the import marker of a profile
 * restored from another instance.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('passkeys', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE').index();
    // The authenticator's credential id (base64url) and COSE public key: all the server keeps of a passkey.
    t.text('credential_id').notNullable().unique();
    t.binary('public_key').notNullable();
    t.bigInteger('counter').notNullable().defaultTo(0);
    t.jsonb('transports').notNullable().defaultTo('[]');
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('last_used_at', { useTz: true });
  });

  // One row per challenge handed out (passkey registration and sign-in, key-pair sign-in, step-up): only the
  // SHA-256 of the challenge, its purpose and origin; spent once (used_at), refused after expires_at.
  await db.schema.createTable('auth_challenges', (t) => {
    t.uuid('id').primary();
    t.text('purpose').notNullable();
    t.text('challenge_hash').notNullable().unique();
    t.uuid('user_id').references('id').inTable('users').onDelete('CASCADE');
    t.text('origin').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // When and how the login of this token last authenticated (password, passkey, key pair): step-up reads it.
  await db.schema.alterTable('sessions', (t) => {
    t.timestamp('auth_at', { useTz: true });
    t.text('auth_method');
  });

  // The root the KEK-derived system keys (outbox, signing keys, e-mail index …) come from once a master key has been
  // rotated: the first KEK's bytes, wrapped by the current KEK, so derived keys outlive a rotation.
  await db.schema.createTable('key_roots', (t) => {
    t.text('name').primary();
    t.binary('wrapped').notNullable();
    t.text('kek_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  // A master-key rotation's progress: re-wrapped in batches, each batch committed with its count, so a run killed
  // halfway resumes where it stopped.
  await db.schema.createTable('master_key_rotations', (t) => {
    t.uuid('id').primary();
    t.text('from_kek_id').notNullable();
    t.text('to_kek_id').notNullable();
    t.integer('rewrapped').notNullable().defaultTo(0);
    t.integer('batches').notNullable().defaultTo(0);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('finished_at', { useTz: true });
  });

  // A profile restored from another instance's export: once per account.
  await db.schema.createTable('profile_imports', (t) => {
    t.uuid('user_id').primary().references('id').inTable('users').onDelete('CASCADE');
    t.text('issuer').notNullable();
    t.text('original_user_id').notNullable();
    t.timestamp('exported_at', { useTz: true }).notNullable();
    t.timestamp('imported_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}
