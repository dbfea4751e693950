/**
 * Break the glass (seed API 4 and 5). `emergency_access` holds a person's emergency setup — the medical items,
 * the profile fields it refers to, the criteria, the trusted contacts, the card's public text — sealed under a
 * data key of its own (wrapped by the KEK for `emergency:<id>`), never under the profile's: the profile's key does
 * not open it, and this key opens nothing else. The emergency card's opaque id is kept as a hash (to find the
 * person) and sealed (to print the card again). `emergency_openings` is the access log (seed
 * app_emergencyaccesslog): each opened access, the basis of its release (src/features/emergency/basis.ts), live
 * while it has not ended or expired. `emergency_contacts` holds one row per named contact: the hash of the token
 * of their decline link, and whether they declined. `emergency_responders` is each responder organisation's
 * roster; `emergency_throttle` counts grant attempts per organisation, responder and person.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('emergency_access', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().unique().references('id').inTable('users').onDelete('CASCADE');
    t.binary('wrapped_dek').notNullable();
    t.text('kek_id').notNullable();
    // Sealed JSON (AAD emergency_access:<id>): emergency_info, criteria, trusted_contacts, public_text.
    t.binary('sealed').notNullable();
    // SHA-256 of the card's opaque id (256 bits, base64url), and the id sealed (AAD emergency_card:<id>).
    t.text('card_hash').notNullable().unique();
    t.binary('card_sealed').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('emergency_contacts', (t) => {
    t.uuid('id').primary();
    t.uuid('access_id').notNullable().references('id').inTable('emergency_access').onDelete('CASCADE').index();
    t.text('decline_hash').notNullable().unique();
    t.timestamp('declined_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });

  await db.schema.createTable('emergency_responders', (t) => {
    t.uuid('id').primary();
    t.text('client_id').notNullable().references('client_id').inTable('services').onDelete('CASCADE');
    t.text('responder_id').notNullable();
    t.text('name').notNullable();
    t.text('licence').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(['client_id', 'responder_id']);
  });

  await db.schema.createTable('emergency_openings', (t) => {
    t.uuid('id').primary();
    t.uuid('access_id').notNullable().references('id').inTable('emergency_access').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    // `responder`: a responder organisation's member; `contact`: a trusted contact with their own session.
    t.text('opened_by').notNullable();
    t.text('client_id');
    t.text('organisation');
    t.text('responder_id');
    t.text('responder_name');
    t.uuid('contact_user_id');
    t.text('criterion').notNullable();
    // The reason, sealed under the emergency key (AAD emergency_openings:<id>): free text about a person's health.
    t.binary('reason_sealed').notNullable();
    t.jsonb('fields').notNullable().defaultTo('[]');
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.text('ended_by');
    t.timestamp('flagged_at', { useTz: true });
    t.text('flag_note');
    t.index(['user_id', 'opened_at']);
  });

  await db.schema.createTable('emergency_throttle', (t) => {
    t.text('key').primary();
    t.integer('attempts').notNullable();
    t.timestamp('window_started_at', { useTz: true }).notNullable();
  });
}
