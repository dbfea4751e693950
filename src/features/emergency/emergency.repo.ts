/**
 * The emergency tables (migrations/022_emergency.ts): a person's sealed setup and its own data key, the contacts'
 * decline tokens, the access log (each opened access: the basis of its release) and the grant throttle.
 */
import type { Knex } from 'knex';
import type { Queryable } from '../../store/db.ts';

export interface EmergencyRow {
  id: string;
  user_id: string;
  wrapped_dek: Uint8Array;
  kek_id: string;
  sealed: Uint8Array;
  card_hash: string;
  card_sealed: Uint8Array;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface ContactRow {
  id: string;
  access_id: string;
  decline_hash: string;
  declined_at: Date | null;
}

export interface OpeningRow {
  id: string;
  access_id: string;
  user_id: string;
  opened_by: 'responder' | 'contact';
  client_id: string | null;
  organisation: string | null;
  responder_id: string | null;
  responder_name: string | null;
  contact_user_id: string | null;
  criterion: string;
  reason_sealed: Uint8Array;
  fields: string[] | string;
  opened_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  ended_by: string | null;
  flagged_at: Date | null;
  flag_note: string | null;
}

/**
 * The liveness check of an emergency access (BasisKind.liveIds): an opened access is live until it ends (the
 * person ends it, or its setup is deleted) or expires. Locked `for key share`: ending one takes the row `for
 * update` first (endOpening), and deleting the setup deletes the row, so either waits for a release on its way to
 * the record, or commits before it and the release is refused.
 */
export const LIVE_OPENINGS_LOCKED = `select id::text as id from emergency_openings
  where id = any(?::uuid[]) and ended_at is null and expires_at > current_timestamp
  order by id for key share`;

export async function findEmergencyByUser(q: Queryable, userId: string): Promise<EmergencyRow | undefined> {
  return (await q('emergency_access').where({ user_id: userId }).first()) as EmergencyRow | undefined;
}

export async function findEmergencyById(q: Queryable, id: string): Promise<EmergencyRow | undefined> {
  return (await q('emergency_access').where({ id }).first()) as EmergencyRow | undefined;
}

export async function findEmergencyByCard(q: Queryable, cardHash: string): Promise<EmergencyRow | undefined> {
  return (await q('emergency_access').where({ card_hash: cardHash }).first()) as EmergencyRow | undefined;
}

export async function lockEmergencyByUser(trx: Knex.Transaction, userId: string): Promise<EmergencyRow | undefined> {
  return (await trx('emergency_access').where({ user_id: userId }).forUpdate().first()) as EmergencyRow | undefined;
}

/** Inserts the person's setup; false when they already have one (a concurrent setup committed first). */
export async function insertEmergency(trx: Knex.Transaction, row: Omit<EmergencyRow, 'version' | 'created_at' | 'updated_at'>): Promise<boolean> {
  const inserted = await trx('emergency_access').insert(row).onConflict('user_id').ignore().returning('id');
  return inserted.length > 0;
}

export async function updateEmergency(
  trx: Knex.Transaction,
  id: string,
  patch: Partial<Pick<EmergencyRow, 'sealed' | 'card_hash' | 'card_sealed'>>,
): Promise<void> {
  await trx('emergency_access')
    .where({ id })
    .update({ ...patch, updated_at: trx.fn.now(), version: trx.raw('version + 1') });
}

export async function deleteEmergency(trx: Knex.Transaction, id: string): Promise<void> {
  // The open accesses first, each locked as ending one locks it: a release on its way waits, then is refused.
  await trx('emergency_openings').where({ access_id: id }).orderBy('id').forUpdate().select('id');
  await trx('emergency_access').where({ id }).delete();
}

export async function contactsOf(q: Queryable, accessId: string): Promise<ContactRow[]> {
  return (await q('emergency_contacts').where({ access_id: accessId })) as ContactRow[];
}

export async function insertContacts(trx: Knex.Transaction, rows: readonly Omit<ContactRow, 'declined_at'>[]): Promise<void> {
  if (rows.length > 0) await trx('emergency_contacts').insert(rows);
}

export async function deleteContacts(trx: Knex.Transaction, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await trx('emergency_contacts').whereIn('id', ids).delete();
}

/** Marks the contact whose decline token hashes to `hash` as declined; the row, or undefined for an unknown token. */
export async function declineContact(trx: Knex.Transaction, hash: string): Promise<ContactRow | undefined> {
  const [row] = (await trx('emergency_contacts').where({ decline_hash: hash }).update({ declined_at: trx.fn.now() }).returning('*')) as ContactRow[];
  return row;
}

/** Inserts an opening; `opened_at` comes in milliseconds, as the log's cursor names it. */
export async function insertOpening(
  trx: Knex.Transaction,
  row: Omit<OpeningRow, 'ended_at' | 'ended_by' | 'flagged_at' | 'flag_note'>,
): Promise<void> {
  await trx('emergency_openings').insert({ ...row, fields: JSON.stringify(row.fields) });
}

export async function setOpeningFields(q: Queryable, id: string, fields: readonly string[]): Promise<void> {
  await q('emergency_openings')
    .where({ id })
    .update({ fields: JSON.stringify(fields) });
}

/** One opening of this person's, locked `for update` (what a release's liveness check waits for). */
export async function lockOpening(trx: Knex.Transaction, userId: string, id: string): Promise<OpeningRow | undefined> {
  return (await trx('emergency_openings').where({ id, user_id: userId }).forUpdate().first()) as OpeningRow | undefined;
}

export async function endOpening(trx: Knex.Transaction, id: string, by: string): Promise<void> {
  await trx('emergency_openings').where({ id }).update({ ended_at: trx.fn.now(), ended_by: by });
}

export async function flagOpening(trx: Knex.Transaction, id: string, note: string | null): Promise<void> {
  await trx('emergency_openings').where({ id }).update({ flagged_at: trx.fn.now(), flag_note: note });
}

/** A page of the person's openings, newest first, after the (opened_at, id) of the previous page's last. */
export async function listOpenings(q: Queryable, userId: string, limit: number, after?: { at: Date; id: string }): Promise<OpeningRow[]> {
  const builder = q('emergency_openings').where({ user_id: userId });
  if (after) builder.whereRaw('(opened_at, id) < (?, ?::uuid)', [after.at, after.id]);
  return (await builder
    .orderBy([
      { column: 'opened_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit)) as OpeningRow[];
}

/**
 * Counts one attempt under `key` in a fixed window; answers false (and counts nothing) once `max` were made in it.
 * One statement: parallel attempts cannot both take the last place.
 */
export async function takeThrottle(q: Queryable, key: string, max: number, windowSeconds: number): Promise<boolean> {
  const { rows } = (await q.raw(
    `insert into emergency_throttle (key, attempts, window_started_at) values (?, 1, current_timestamp)
     on conflict (key) do update set
       attempts = case when emergency_throttle.window_started_at < current_timestamp - make_interval(secs => ?) then 1
                       else emergency_throttle.attempts + 1 end,
       window_started_at = case when emergency_throttle.window_started_at < current_timestamp - make_interval(secs => ?)
                                then current_timestamp else emergency_throttle.window_started_at end
     where emergency_throttle.window_started_at < current_timestamp - make_interval(secs => ?) or emergency_throttle.attempts < ?
     returning attempts`,
    [key, windowSeconds, windowSeconds, windowSeconds, max],
  )) as { rows: unknown[] };
  return rows.length > 0;
}

/** The user whose address hashes to `emailIndex` (src/features/accounts/email.ts), or undefined. */
export async function findUserIdByEmailIndex(q: Queryable, emailIndex: string): Promise<string | undefined> {
  return ((await q('users').where({ email_index: emailIndex }).first('id')) as { id: string } | undefined)?.id;
}

/** Whether the user proved control of their current address (a trusted contact must have). */
export async function hasVerifiedEmail(q: Queryable, userId: string): Promise<boolean> {
  const row = (await q('users').where({ id: userId }).first('email_verified_at')) as { email_verified_at: Date | null } | undefined;
  return Boolean(row?.email_verified_at);
}
