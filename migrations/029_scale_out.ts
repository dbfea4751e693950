/**
 * Issue 21, no per-process truth. Two facts every instance follows from here instead of from what it loaded at start:
 *
 * - When a signing key starts to sign. `activates_at` on the provider's signing keys and on the credential issuer
 *   keys: a rotated key is stored `pending` — published in every instance's JWKS — and becomes `active` (the one that
 *   signs) only at `activates_at`, by the database's clock, which is later than any instance takes to see it
 *   (src/crypto/signing-keys.ts). Keys stored before are active from when they were made.
 * - Which policy revision is in force. `policy_activations` has a row each time a revision comes into force: the
 *   first time an instance starts with it, or when an operator brings an older one back (`npm run policy --
 *   activate`). The newest row is the revision every instance must answer with (src/policy/revision.ts).
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  for (const table of ['signing_keys', 'issuer_keys']) {
    await db.schema.alterTable(table, (t) => {
      t.timestamp('activates_at', { useTz: true });
    });
    await db(table).update({ activates_at: db.ref('created_at') });
    await db.schema.alterTable(table, (t) => {
      t.timestamp('activates_at', { useTz: true }).notNullable().defaultTo(db.fn.now()).alter();
    });
  }

  await db.schema.createTable('policy_activations', (t) => {
    t.bigIncrements('generation').primary();
    t.text('revision').notNullable(); // sha256 of the policy files (src/policy/load.ts)
    t.text('origin').notNullable(); // where the activating instance read them
    t.text('activated_by').notNullable(); // host:pid of the instance, or the operator's command
    t.timestamp('activated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.index(['revision']);
  });
}
