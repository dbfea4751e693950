/**
 * Government credentials (issue 14): a licence or ID card the person photographed, what its barcode says and how
 * it was checked. The image and the extraction are sealed under the profile's data key (AAD
 * `credentials:<profile_id>:<id>:image|extraction|checks`); no column holds a value of the card in the clear. A confirmed
 * credential is what a profile field's provenance `credential:<id>` points at.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('credentials', (t) => {
    t.uuid('id').primary();
    t.uuid('profile_id').notNullable().references('id').inTable('profiles').onDelete('CASCADE');
    t.text('type').notNullable(); // a code of the catalogue (src/features/credentials/catalogue.ts)
    t.text('state').notNullable();
    t.binary('image'); // sealed; null once rejected (discarded)
    t.text('image_type');
    t.binary('extraction'); // sealed JSON of the parsed barcode; null once rejected
    t.binary('checks'); // sealed JSON of the checks' outcomes (their messages quote the card); null once rejected
    // The codes of the checks that passed, and nothing of the card: what the owner's profile shows of a verified value.
    t.jsonb('checks_passed').notNullable().defaultTo('[]');
    // The profile fields the confirmation wrote, and which of them the person corrected.
    t.jsonb('applied_fields').notNullable().defaultTo('[]');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('decided_at', { useTz: true });
    t.index(['profile_id', 'created_at']);
  });
  await db.raw(`alter table credentials add constraint credentials_state_check check (state in ('pending_confirmation', 'confirmed', 'rejected'))`);
}
