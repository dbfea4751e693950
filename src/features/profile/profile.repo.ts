/**
 * The profile container: one data key (DEK) per profile, wrapped by the KEK, and every field value sealed under it
 * with associated data `profile_fields:<profile_id>:<field>`, so a value copied to another row or profile fails to
 * open. Avatars are sealed the same way. Values are JSON; a null value means the field is unset but may still
 * carry its owner's ring.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { newDataKey, open, seal, type Keyring } from '../../crypto/envelope.ts';
import type { Db, Queryable } from '../../store/db.ts';
import { runStatement } from '../../store/db.ts';

export interface ProfileRow {
  id: string;
  user_id: string;
  wrapped_dek: Uint8Array;
  kek_id: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A profile with its data key unwrapped: what reading or writing its sealed values needs. */
export interface OpenProfile {
  id: string;
  userId: string;
  version: number;
  dek: Buffer;
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

export interface AvatarRow {
  profile_id: string;
  content_type: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  updated_at: Date;
}

/** Associated data binding a sealed value to its profile and field. */
export function fieldAad(profileId: string, field: string): string {
  return `profile_fields:${profileId}:${field}`;
}

const profileOwner = (profileId: string) => `profile:${profileId}`;

/** Unwraps the data key of a profile row. */
export function openProfile(keyring: Keyring, row: Pick<ProfileRow, 'id' | 'user_id' | 'wrapped_dek' | 'kek_id' | 'version'>): OpenProfile {
  const dek = keyring.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_dek) }, profileOwner(row.id));
  return { id: row.id, userId: row.user_id, version: row.version, dek };
}

/** Creates the container of a new user's profile with a fresh data key. */
export async function insertProfile(trx: Knex.Transaction, keyring: Keyring, userId: string): Promise<OpenProfile> {
  const id = randomUUID();
  const dek = newDataKey();
  const wrapped = keyring.wrap(dek, profileOwner(id));
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
    .whereIn('profile_id', profileIds)) as { profile_id: string; field: string; ring: string; provenance: string; updated_at: Date; has_value: boolean }[];
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

/** Opens one field's sealed value (JSON); null stays null. */
export function openFieldValue(profile: OpenProfile, field: string, sealed: Uint8Array | null): unknown {
  if (sealed === null) return null;
  // A view, not a copy: open() only reads it.
  const bytes = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  return JSON.parse(open(profile.dek, bytes, fieldAad(profile.id, field)).toString('utf8'));
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

/** A custom ring as the disclosure snapshot reads it (the columns readUserRings uses). */
export interface SnapshotRing {
  id: string;
  name: string;
  description: string | null;
  roles: unknown;
  services: unknown;
}

/**
 * Everything a decision about one person's profile needs: the container's key, every field's ring and sealed
 * value (only the released ones are ever opened), and the person's ring settings — the custom rings in the order
 * listCustomRings gives them, and the settings version that names them in the ability cache.
 */
export interface ProfileSnapshot {
  profile: Pick<ProfileRow, 'id' | 'user_id' | 'wrapped_dek' | 'kek_id' | 'version'>;
  /** Each field row: its ring and its value still sealed, in base64 (decoded only for the fields opened). */
  fields: { field: string; ring: string; sealed: string | null }[];
  customRings: SnapshotRing[];
  ringsVersion: number;
}

/** The columns profileSnapshotSql adds to a row. */
export interface SnapshotColumns {
  snap_profile_id: string | null;
  snap_user_id: string;
  snap_wrapped_dek: Uint8Array;
  snap_kek_id: string;
  snap_version: number;
  snap_rings_version: string | number;
  snap_custom_rings: SnapshotRing[] | string | null;
  /** [field, ring, sealed value in base64 or null] per field row. */
  snap_fields: [string, string, string | null][] | string | null;
}

/**
 * The columns and joins that read one person's ProfileSnapshot into a single row, for a statement that names the
 * person by the SQL expression `userId` (a parameter, or a column of a table the statement already reads): the
 * container row, the field rows and the custom rings each aggregated as JSON (parsed natively, where a bytea[]
 * would be parsed character by character), and the rings version.
 */
export function profileSnapshotSql(userId: string): { columns: string; joins: string } {
  return {
    columns: `p.id as snap_profile_id, p.user_id as snap_user_id, p.wrapped_dek as snap_wrapped_dek, p.kek_id as snap_kek_id,
              p.version as snap_version, coalesce(rs.version, 0) as snap_rings_version, cr.rings as snap_custom_rings,
              fa.fields as snap_fields`,
    joins: `left join profiles p on p.user_id = ${userId}
            left join ring_settings rs on rs.user_id = p.user_id
            left join lateral (
              select json_agg(json_build_object('id', r.id, 'name', r.name, 'description', r.description,
                                                'roles', r.roles, 'services', r.services)
                              order by r.created_at, r.name_lower) as rings
                from rings r where r.user_id = p.user_id
            ) cr on true
            left join lateral (
              select json_agg(json_build_array(f.field, f.ring, encode(f.value, 'base64'))) as fields
                from profile_fields f where f.profile_id = p.id
            ) fa on true`,
  };
}

/** The snapshot in a row read with profileSnapshotSql; undefined when the person has no profile. */
export function profileSnapshotFrom(row: SnapshotColumns): ProfileSnapshot | undefined {
  if (row.snap_profile_id === null) return undefined;
  const json = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
  const rings = json(row.snap_custom_rings);
  const fields = json(row.snap_fields) ?? [];
  return {
    profile: { id: row.snap_profile_id, user_id: row.snap_user_id, wrapped_dek: row.snap_wrapped_dek, kek_id: row.snap_kek_id, version: row.snap_version },
    fields: fields.map(([field, ring, sealed]) => ({ field, ring, sealed })),
    customRings: rings ?? [],
    ringsVersion: Number(row.snap_rings_version),
  };
}

const SNAPSHOT = profileSnapshotSql('person.id');

/** One person's ProfileSnapshot, in one statement (named: planned once per connection, not on every read). */
export async function readProfileSnapshot(q: Queryable, userId: string): Promise<ProfileSnapshot | undefined> {
  const { rows } = (await q
    .raw(`select ${SNAPSHOT.columns} from (select ?::uuid as id) person ${SNAPSHOT.joins}`, [userId])
    .options({ name: 'rf_profile_snapshot' })) as { rows: SnapshotColumns[] };
  return profileSnapshotFrom(rows[0]);
}

/** Writes values, sealing each under the profile's key; a field that has a row keeps its ring. */
export async function writeFields(trx: Knex.Transaction, profile: OpenProfile, writes: readonly FieldWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const now = new Date();
  const rows = writes.map((w) => ({
    profile_id: profile.id,
    field: w.field,
    value: w.value === null || w.value === undefined ? null : seal(profile.dek, JSON.stringify(w.value), fieldAad(profile.id, w.field)),
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

const avatarAad = (profileId: string) => `avatars:${profileId}`;

/** Stores (or replaces) the profile's picture, sealed. */
export async function upsertAvatar(trx: Knex.Transaction, profile: OpenProfile, image: Buffer, meta: Omit<AvatarRow, 'profile_id' | 'updated_at'>): Promise<void> {
  await trx('avatars')
    .insert({ profile_id: profile.id, image: seal(profile.dek, image, avatarAad(profile.id)), ...meta, updated_at: new Date() })
    .onConflict('profile_id')
    .merge();
}

/** Facts about the stored picture, without opening it. */
export async function findAvatarMeta(q: Queryable, profileId: string): Promise<AvatarRow | undefined> {
  return (await q('avatars')
    .select('profile_id', 'content_type', 'sha256', 'bytes', 'width', 'height', 'updated_at')
    .where({ profile_id: profileId })
    .first()) as AvatarRow | undefined;
}

/** The stored picture, opened, with its facts; undefined when there is none. */
export async function readAvatarImage(q: Queryable, profile: OpenProfile): Promise<{ meta: AvatarRow; image: Buffer } | undefined> {
  const row = (await q('avatars').where({ profile_id: profile.id }).first()) as (AvatarRow & { image: Uint8Array }) | undefined;
  if (!row) return undefined;
  const { image, ...meta } = row;
  return { meta, image: open(profile.dek, Buffer.from(image), avatarAad(profile.id)) };
}

/** Deletes the picture; false when there was none. */
export async function deleteAvatar(trx: Knex.Transaction, profileId: string): Promise<boolean> {
  return (await trx('avatars').where({ profile_id: profileId }).delete()) > 0;
}

/** Seals a value of another table under the profile's key (biometrics, status posts), bound to `aad`. */
export function sealForProfile(profile: OpenProfile, plaintext: string | Buffer, aad: string): Buffer {
  return seal(profile.dek, plaintext, aad);
}

/** Opens a value sealed by sealForProfile. */
export function openForProfile(profile: OpenProfile, sealed: Uint8Array, aad: string): Buffer {
  return open(profile.dek, Buffer.from(sealed), aad);
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
