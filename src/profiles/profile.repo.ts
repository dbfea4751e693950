/**
 * The profile's rows: the container row (its wrapped data key and version), the field rows with their rings and
 * sealed values (src/disclosure/container.ts seals and opens them), and the public directory's lookups. Values
 * are JSON; a null value means the field is unset but may still carry its owner's ring.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Keyring } from '../crypto/envelope.ts';
import { newProfileKey, openFieldValue, openProfile, sealFieldValue, type OpenProfile } from '../disclosure/container.ts';
import type { Db, Queryable } from '../store/db.ts';
import { runStatement } from '../store/db.ts';

export interface ProfileRow {
  id: string;
  user_id: string;
  wrapped_dek: Uint8Array;
  kek_id: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface FieldRing {
  field: string;
  ring: string;
  hasValue: boolean;
  provenance: string;
  updatedAt: Date;
}

export interface StoredField extends FieldRing {
  value: unknown;
}

export interface FieldWrite {
  field: string;
  /** null clears the value; the field keeps its ring. */
  value: unknown;
  /** Ring for a field that has no row yet (its default ring); an existing row keeps the ring its owner chose. */
  ring: string;
  provenance: string;
}

/** Creates the container of a new user's profile with a fresh data key. */
export async function insertProfile(trx: Knex.Transaction, keyring: Keyring, userId: string): Promise<OpenProfile> {
  const id = randomUUID();
  const { dek, wrapped } = newProfileKey(keyring, id);
  await trx('profiles').insert({ id, user_id: userId, wrapped_dek: wrapped.wrapped, kek_id: wrapped.kekId, version: 1 });
  return { id, userId, version: 1, dek };
}

/** The user's profile row, or undefined. */
export async function findProfileByUser(q: Queryable, userId: string): Promise<ProfileRow | undefined> {
  return (await q('profiles').where({ user_id: userId }).first()) as ProfileRow | undefined;
}

/** The profile rows with these ids. */
export async function findProfilesByIds(q: Queryable, ids: readonly string[]): Promise<ProfileRow[]> {
  if (ids.length === 0) return [];
  return (await q('profiles').whereIn('id', ids)) as ProfileRow[];
}

/** Locks the profile row for the rest of the transaction, so concurrent updates apply one after the other. */
export async function lockProfile(trx: Knex.Transaction, profileId: string): Promise<ProfileRow> {
  return (await trx('profiles').where({ id: profileId }).forUpdate().first()) as ProfileRow;
}

/** Rings of the fields that have rows, per profile; reads no value. */
export async function readFieldRings(q: Queryable, profileIds: readonly string[]): Promise<Map<string, FieldRing[]>> {
  const out = new Map<string, FieldRing[]>(profileIds.map((id) => [id, []]));
  if (profileIds.length === 0) return out;
  const rows = (await q('profile_fields')
    .select('profile_id', 'field', 'ring', 'provenance', 'updated_at')
    .select(q.raw('value is not null as has_value'))
    .whereIn('profile_id', profileIds)) as {
    profile_id: string;
    field: string;
    ring: string;
    provenance: string;
    updated_at: Date;
    has_value: boolean;
  }[];
  for (const r of rows) {
    out.get(r.profile_id)?.push({ field: r.field, ring: r.ring, hasValue: r.has_value, provenance: r.provenance, updatedAt: r.updated_at });
  }
  return out;
}

/** A field row as stored: its value still sealed. */
export interface SealedFieldRow {
  field: string;
  value: Uint8Array | null;
  ring: string;
  provenance: string;
  updated_at: Date;
}

/** Opens sealed field rows of one profile. */
export function openFieldRows(profile: OpenProfile, rows: readonly SealedFieldRow[]): Map<string, StoredField> {
  const out = new Map<string, StoredField>();
  for (const r of rows) {
    const value = openFieldValue(profile, r.field, r.value);
    out.set(r.field, { field: r.field, value, ring: r.ring, hasValue: r.value !== null, provenance: r.provenance, updatedAt: r.updated_at });
  }
  return out;
}

/** Opens the values of `fields` (every field when omitted) of one profile. */
export async function readFields(q: Queryable, profile: OpenProfile, fields?: readonly string[]): Promise<Map<string, StoredField>> {
  const builder = q('profile_fields').where({ profile_id: profile.id });
  if (fields) builder.whereIn('field', fields);
  return openFieldRows(profile, (await builder) as SealedFieldRow[]);
}

/**
 * A user's profile row and every field row (values still sealed), in one statement: the field rows aggregated as
 * JSON, so the profile's columns are neither repeated nor parsed once per field. Undefined when there is none.
 */
export async function readProfileWithFields(db: Db, userId: string): Promise<{ profile: ProfileRow; fields: SealedFieldRow[] } | undefined> {
  // Straight to the driver (runStatement): every owner read runs it.
  const rows = await runStatement<ProfileRow & { fields: [string, string, string, string, string | null][] | string | null }>(
    db,
    'rf_profile_with_fields',
    // Columns named, not p.*: a prepared statement whose result changes shape (a column added) would fail.
    `select p.id, p.user_id, p.wrapped_dek, p.kek_id, p.version, p.created_at, p.updated_at, fa.fields
       from profiles p
       left join lateral (
         select json_agg(json_build_array(f.field, f.ring, f.provenance, f.updated_at, encode(f.value, 'base64'))) as fields
           from profile_fields f where f.profile_id = p.id
       ) fa on true
      where p.user_id = ?`,
    [userId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { fields, ...profile } = row;
  const list = (typeof fields === 'string' ? JSON.parse(fields) : fields) as [string, string, string, string, string | null][] | null;
  return {
    profile,
    fields: (list ?? []).map(([field, ring, provenance, updatedAt, sealed]) => ({
      field,
      ring,
      provenance,
      updated_at: new Date(updatedAt),
      value: sealed === null ? null : Buffer.from(sealed, 'base64'),
    })),
  };
}

/** Writes values, sealing each under the profile's key; a field that has a row keeps its ring. */
export async function writeFields(trx: Knex.Transaction, profile: OpenProfile, writes: readonly FieldWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const now = new Date();
  const rows = writes.map((w) => ({
    profile_id: profile.id,
    field: w.field,
    value: w.value === null || w.value === undefined ? null : sealFieldValue(profile, w.field, w.value),
    ring: w.ring,
    provenance: w.provenance,
    updated_at: now,
  }));
  await trx('profile_fields').insert(rows).onConflict(['profile_id', 'field']).merge(['value', 'provenance', 'updated_at']);
}

/**
 * Counts one more change of a user's profile and locks its row for the rest of the transaction, in one statement;
 * the row as updated (its new version), or undefined when the user has no profile.
 */
export async function bumpProfileVersionOfUser(trx: Knex.Transaction, userId: string): Promise<ProfileRow | undefined> {
  const [row] = (await trx('profiles')
    .where({ user_id: userId })
    .update({ version: trx.raw('version + 1'), updated_at: new Date() })
    .returning('*')
    .options({ name: 'rf_profile_bump_by_user' })) as ProfileRow[];
  return row;
}

/** Counts one more change of the profile; returns the new version. */
export async function bumpVersion(trx: Knex.Transaction, profileId: string): Promise<number> {
  const [row] = (await trx('profiles')
    .where({ id: profileId })
    .update({ version: trx.raw('version + 1'), updated_at: new Date() })
    .returning('version')) as { version: number }[];
  return row.version;
}

/** A row of the public directory: a user, their handle and their profile. */
export interface DirectoryRow {
  user_id: string;
  handle: string;
  handle_lower: string;
  profile_id: string;
}

/** Profiles in handle order after `afterHandle` (lower-cased). */
export async function listProfilesByHandle(q: Queryable, afterHandle: string | undefined, limit: number): Promise<DirectoryRow[]> {
  const builder = q('users as u')
    .join('profiles as p', 'p.user_id', 'u.id')
    .select('u.id as user_id', 'u.handle', 'u.handle_lower', 'p.id as profile_id')
    .orderBy('u.handle_lower', 'asc')
    .limit(limit);
  if (afterHandle !== undefined) builder.where('u.handle_lower', '>', afterHandle);
  return (await builder) as DirectoryRow[];
}

/** The user and profile behind a handle (any case), or undefined. */
export async function findProfileByHandle(q: Queryable, handle: string): Promise<DirectoryRow | undefined> {
  // PostgreSQL text cannot hold NUL (the query would fail); no handle has one.
  if (handle.includes('\u0000')) return undefined;
  return (await q('users as u')
    .join('profiles as p', 'p.user_id', 'u.id')
    .select('u.id as user_id', 'u.handle', 'u.handle_lower', 'p.id as profile_id')
    .where('u.handle_lower', handle.toLowerCase())
    .first()) as DirectoryRow | undefined;
}

/** The profile of a user, opened; throws when the user has none (every user gets one at registration). */
export async function openUserProfile(q: Queryable, keyring: Keyring, userId: string): Promise<OpenProfile> {
  const row = await findProfileByUser(q, userId);
  if (!row) throw new Error(`user ${userId} has no profile`);
  return openProfile(keyring, row);
}

/** Values of a few fields of a user's profile (unset ones are null), e.g. the address to mail. */
export async function readUserFields(q: Queryable, keyring: Keyring, userId: string, fields: readonly string[]): Promise<Record<string, unknown>> {
  const profile = await openUserProfile(q, keyring, userId);
  const stored = await readFields(q, profile, fields);
  return Object.fromEntries(fields.map((f) => [f, stored.get(f)?.value ?? null]));
}
