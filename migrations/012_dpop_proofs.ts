/**
 * DPoP proofs already seen by the data API (RFC 9449 §11.1, replay): one row per proof, its key the SHA-256 of the
 * proof's key thumbprint and `jti`, kept until the proof's `iat` leaves the accepted window (after which the proof is
 * refused as stale anyway). In the database, not in memory, so a proof replayed to another instance is refused too.
 * The service's periodic sweep deletes expired rows; an expired row is also reused in place by the next insert.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('dpop_proofs', (t) => {
    t.text('id').primary(); // sha256 hex of "<jkt>.<jti>"
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
  });
}
