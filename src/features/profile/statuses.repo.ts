/** Status posts (seed 002): short texts of a profile, sealed under its key, paged newest first by `seq`. */
import type { Knex } from 'knex';
import type { Queryable } from '../../store/db.ts';

export interface StatusRow {
  id: string;
  /** bigint, as PostgreSQL returns it: a string. */
  seq: string;
  profile_id: string;
  content: Uint8Array;
  ring: string;
  created_at: Date;
  updated_at: Date;
}

/** Stores a post; returns its row with the sequence number it got. */
export async function insertStatus(
  trx: Knex.Transaction,
  row: Pick<StatusRow, 'id' | 'profile_id' | 'ring'> & { content: Buffer },
): Promise<StatusRow> {
  const now = new Date();
  const [inserted] = (await trx('status_posts')
    .insert({ ...row, created_at: now, updated_at: now })
    .returning('*')) as StatusRow[];
  return inserted;
}

/** Posts of a profile older than `beforeSeq`, newest first; only those in `rings` when given. */
export async function listStatuses(
  q: Queryable,
  profileId: string,
  options: { beforeSeq?: string; rings?: readonly string[]; limit: number },
): Promise<StatusRow[]> {
  const builder = q('status_posts').where({ profile_id: profileId }).orderBy('seq', 'desc').limit(options.limit);
  if (options.beforeSeq !== undefined) builder.where('seq', '<', options.beforeSeq);
  if (options.rings) builder.whereIn('ring', options.rings);
  return (await builder) as StatusRow[];
}

/** A post of this profile, or undefined. */
export async function findStatus(q: Queryable, profileId: string, id: string): Promise<StatusRow | undefined> {
  return (await q('status_posts').where({ id, profile_id: profileId }).first()) as StatusRow | undefined;
}

/** Changes a post; returns the new row. */
export async function updateStatus(trx: Knex.Transaction, id: string, patch: { content?: Buffer; ring?: string }): Promise<StatusRow> {
  const [row] = (await trx('status_posts')
    .where({ id })
    .update({ ...patch, updated_at: new Date() })
    .returning('*')) as StatusRow[];
  return row;
}

/** Deletes a post of this profile; false when it had none with this id. */
export async function deleteStatus(trx: Knex.Transaction, profileId: string, id: string): Promise<boolean> {
  return (await trx('status_posts').where({ id, profile_id: profileId }).delete()) > 0;
}
