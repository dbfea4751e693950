/**
 * Health records and the links that share them with a doctor (issue 17).
 *
 * health_records: one FHIR R4 resource per row, sealed under the profile's DEK (AAD `health_records:<id>`); only its
 * type stays in the clear, for listing by type and for the policy (a type is governed by a catalogue field).
 *
 * health_links: a time-limited link to a doctor's verified e-mail. The link's path token is kept as its SHA-256
 * only; the link's own AES key (the JWE's `dir` key, which travels only in the URL fragment) only wrapped by the
 * profile's DEK; the recipient's address sealed under the profile's DEK, and as a keyed hash to compare with what
 * the doctor types. `jwe` is the compact JWE of the shared records, re-encrypted when one of them changes. The
 * one-time code is kept as a keyed hash; `wrong_codes` counts wrong codes over the link's whole life.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('health_records', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('resource_type').notNullable();
    t.binary('resource').notNullable(); // sealed FHIR JSON, AAD health_records:<id>
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['user_id', 'created_at', 'id']);
  });

  await db.schema.createTable('health_links', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE').index();
    t.text('token_hash').notNullable().unique(); // sha256 hex of the path token
    t.binary('wrapped_key').notNullable(); // the link key sealed under the profile's DEK, AAD health_links:<id>:key
    t.binary('recipient').notNullable(); // sealed address, AAD health_links:<id>:recipient
    t.text('recipient_hash').notNullable(); // HMAC of the normalized address
    // What is shared: record ids and record types (a type shares every record of it, later ones included).
    t.jsonb('record_ids').notNullable().defaultTo('[]');
    t.jsonb('record_types').notNullable().defaultTo('[]');
    t.text('jwe').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.text('code_hash');
    t.timestamp('code_expires_at', { useTz: true });
    t.timestamp('code_sent_at', { useTz: true });
    t.integer('codes_sent').notNullable().defaultTo(0);
    t.integer('wrong_codes').notNullable().defaultTo(0);
    t.integer('accesses').notNullable().defaultTo(0);
    t.timestamp('first_access_at', { useTz: true });
    t.timestamp('last_access_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}
