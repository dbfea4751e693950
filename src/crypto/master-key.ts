/**
 * Master-key (KEK) rotation. Every data key is wrapped by the KEK; rotating it re-wraps each data key under the new
 * KEK in batches (each batch one transaction, its count recorded in master_key_rotations), so a run killed halfway
 * resumes where it stopped, and the servers — given the new key as RINGFENCE_MASTER_KEY and the old one in
 * RINGFENCE_PREVIOUS_MASTER_KEYS — open keys wrapped by either meanwhile. The system keys derived from the KEK
 * (outbox, signing keys, e-mail index, cookies) come from a root that outlives rotations: the first KEK's bytes,
 * stored in key_roots wrapped by the current KEK.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Keyring } from './envelope.ts';
import { withTransaction, type Queryable } from '../store/db.ts';

const ROOT = 'system';

/** A table whose rows hold a data key wrapped by the KEK: `wrapped_dek` and `kek_id`, bound to `owner(id)`. */
export interface WrappedKeyTable {
  table: string;
  owner: (id: string) => string;
}

/** The keyring of a running service: the KEK, the ones being rotated away from, and the stored derivation root. */
export async function openKeyring(
  db: Queryable,
  kek: Buffer,
  options: { previous?: readonly Buffer[]; cacheEntries?: number } = {},
): Promise<Keyring> {
  const probe = new Keyring(kek, { previous: options.previous, cacheEntries: 0 });
  const row = (await db('key_roots').where({ name: ROOT }).first()) as { wrapped: Uint8Array; kek_id: string } | undefined;
  const root = row ? probe.openRoot({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped) }) : undefined;
  return new Keyring(kek, { ...options, ...(root ? { root } : {}) });
}

export interface RotationProgress {
  rotation_id: string;
  to_kek_id: string;
  rewrapped: number;
  batches: number;
  remaining: number;
  finished: boolean;
  resumed: boolean;
}

async function remaining(db: Queryable, tables: readonly WrappedKeyTable[], kekId: string): Promise<number> {
  let n = 0;
  for (const t of tables) {
    const [{ count }] = (await db(t.table).whereNot({ kek_id: kekId }).count({ count: '*' })) as { count: string | number }[];
    n += Number(count);
  }
  return n;
}

/**
 * Re-wraps every data key of `tables` not yet under the keyring's KEK, `batchSize` rows per transaction, pausing
 * `pauseMs` between batches (to spare a busy database). Resumes the unfinished rotation to the same KEK if there is
 * one. A data key that no known KEK opens stops the run (DecryptionError) with nothing of that batch written.
 */
export async function rotateMasterKey(
  db: Knex,
  keyring: Keyring,
  tables: readonly WrappedKeyTable[],
  options: { batchSize?: number; pauseMs?: number; onBatch?: (p: RotationProgress) => void } = {},
): Promise<RotationProgress> {
  const batchSize = options.batchSize ?? 500;
  // The derivation root first, so servers restarted from now on derive the same system keys.
  const { id, resumed } = await withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [0x4b454b52]);
    const root = (await trx('key_roots').where({ name: ROOT }).forUpdate().first()) as { wrapped: Uint8Array; kek_id: string } | undefined;
    if (!root || root.kek_id !== keyring.kekId) {
      if (root) keyring.openRoot({ kekId: root.kek_id, wrapped: Buffer.from(root.wrapped) });
      const wrapped = keyring.wrapRoot();
      await trx('key_roots')
        .insert({ name: ROOT, wrapped: wrapped.wrapped, kek_id: wrapped.kekId, updated_at: new Date() })
        .onConflict('name')
        .merge(['wrapped', 'kek_id', 'updated_at']);
    }
    const open = (await trx('master_key_rotations').where({ to_kek_id: keyring.kekId }).whereNull('finished_at').first()) as
      | { id: string }
      | undefined;
    if (open) return { id: open.id, resumed: true };
    const rotationId = randomUUID();
    await trx('master_key_rotations').insert({ id: rotationId, from_kek_id: keyring.previousKekIds.join(',') || '-', to_kek_id: keyring.kekId });
    return { id: rotationId, resumed: false };
  });
  const progress = async (): Promise<RotationProgress> => {
    const row = (await db('master_key_rotations').where({ id }).first()) as { rewrapped: number; batches: number; finished_at: Date | null };
    return {
      rotation_id: id,
      to_kek_id: keyring.kekId,
      rewrapped: row.rewrapped,
      batches: row.batches,
      remaining: await remaining(db, tables, keyring.kekId),
      finished: row.finished_at !== null,
      resumed,
    };
  };
  for (const t of tables) {
    for (;;) {
      const done = await withTransaction(db, async (trx) => {
        const rows = (await trx(t.table)
          .whereNot({ kek_id: keyring.kekId })
          .orderBy('id')
          .limit(batchSize)
          .select('id', 'wrapped_dek', 'kek_id')) as {
          id: string;
          wrapped_dek: Uint8Array;
          kek_id: string;
        }[];
        let n = 0;
        // Row by row: a row another transaction holds makes this one wait, never skip it.
        for (const r of rows) {
          const dek = keyring.unwrap({ kekId: r.kek_id, wrapped: Buffer.from(r.wrapped_dek) }, t.owner(r.id));
          const wrapped = keyring.wrap(dek, t.owner(r.id));
          n += await trx(t.table).where({ id: r.id, kek_id: r.kek_id }).update({ wrapped_dek: wrapped.wrapped, kek_id: wrapped.kekId });
        }
        if (rows.length > 0) {
          await trx('master_key_rotations')
            .where({ id })
            .update({ rewrapped: trx.raw('rewrapped + ?', [n]), batches: trx.raw('batches + 1'), updated_at: new Date() });
        }
        return rows.length === 0;
      });
      if (done) break;
      options.onBatch?.(await progress());
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  }
  if ((await remaining(db, tables, keyring.kekId)) === 0) {
    await db('master_key_rotations').where({ id }).whereNull('finished_at').update({ finished_at: new Date(), updated_at: new Date() });
  }
  return progress();
}
