/**
 * Storage of privilege rings: custom rings (name, who they admit) in `rings`, each field's ring in
 * profile_fields.ring (`custom:<id>` for a custom ring), and the per-person settings version in ring_settings.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { CUSTOM_PREFIX, type CustomRing, type UserRings } from '../../policy/engine.ts';
import type { Queryable } from '../../store/db.ts';
import { findProfileByUser, readFieldRings } from '../../profiles/profile.repo.ts';

export interface RingRow {
  id: string;
  user_id: string;
  name: string;
  name_lower: string;
  description: string | null;
  roles: string[];
  services: string[];
  created_at: Date;
  updated_at: Date;
}

function jsonList(value: unknown): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : ((value as string[] | null) ?? []);
}

function toRing(row: RingRow): RingRow {
  return { ...row, roles: jsonList(row.roles), services: jsonList(row.services) };
}

export async function listCustomRings(q: Queryable, userId: string): Promise<RingRow[]> {
  return ((await q('rings').where({ user_id: userId }).orderBy('created_at').orderBy('name_lower')) as RingRow[]).map(toRing);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findCustomRing(q: Queryable, userId: string, id: string): Promise<RingRow | undefined> {
  // Ring ids are UUIDs; anything else (a typo, `policy` under another method) is simply no ring.
  if (!UUID.test(id)) return undefined;
  const row = (await q('rings').where({ user_id: userId, id }).first()) as RingRow | undefined;
  return row ? toRing(row) : undefined;
}

export async function findCustomRingByName(q: Queryable, userId: string, name: string): Promise<RingRow | undefined> {
  const row = (await q('rings').where({ user_id: userId, name_lower: name.toLowerCase() }).first()) as RingRow | undefined;
  return row ? toRing(row) : undefined;
}

export interface RingWrite {
  name: string;
  description?: string | null;
  roles: readonly string[];
  services: readonly string[];
}

export async function insertCustomRing(trx: Knex.Transaction, userId: string, ring: RingWrite): Promise<string> {
  const id = randomUUID();
  await trx('rings').insert({
    id,
    user_id: userId,
    name: ring.name,
    name_lower: ring.name.toLowerCase(),
    description: ring.description ?? null,
    roles: JSON.stringify(ring.roles),
    services: JSON.stringify(ring.services),
  });
  return id;
}

export async function updateCustomRing(trx: Knex.Transaction, id: string, ring: RingWrite): Promise<void> {
  await trx('rings')
    .where({ id })
    .update({
      name: ring.name,
      name_lower: ring.name.toLowerCase(),
      ...(ring.description !== undefined ? { description: ring.description } : {}),
      roles: JSON.stringify(ring.roles),
      services: JSON.stringify(ring.services),
      updated_at: new Date(),
    });
}

export async function deleteCustomRing(trx: Knex.Transaction, id: string): Promise<void> {
  await trx('rings').where({ id }).delete();
}

/** Puts fields in rings; a field without a row gets one with no value, so its ring is kept until it has one. */
export async function setFieldRings(trx: Knex.Transaction, profileId: string, placements: readonly { field: string; ring: string }[]): Promise<void> {
  if (placements.length === 0) return;
  await trx('profile_fields')
    .insert(placements.map((p) => ({ profile_id: profileId, field: p.field, value: null, ring: p.ring })))
    .onConflict(['profile_id', 'field'])
    .merge(['ring']);
}

export async function readRingsVersion(q: Queryable, userId: string): Promise<number> {
  const row = (await q('ring_settings').where({ user_id: userId }).first('version')) as { version: string | number } | undefined;
  return Number(row?.version ?? 0);
}

/** Counts one more change of a person's rings; returns the new version. */
export async function bumpRingsVersion(trx: Knex.Transaction, userId: string): Promise<number> {
  const [row] = (await trx('ring_settings')
    .insert({ user_id: userId, version: 1, updated_at: new Date() })
    .onConflict('user_id')
    .merge({ version: trx.raw('ring_settings.version + 1'), updated_at: new Date() })
    .returning('version')) as { version: string | number }[];
  return Number(row.version);
}

/** Serializes ring changes of one person: the settings row is locked for the rest of the transaction. */
export async function lockRingSettings(trx: Knex.Transaction, userId: string): Promise<void> {
  await trx('ring_settings').insert({ user_id: userId, version: 0 }).onConflict('user_id').ignore();
  await trx('ring_settings').where({ user_id: userId }).forUpdate().first();
}

/** Where each field with a stored ring sits, for one person: field → ring (a default ring or `custom:<id>`). */
export async function readPlacements(q: Queryable, profileId: string): Promise<Map<string, string>> {
  const rows = (await readFieldRings(q, [profileId])).get(profileId) ?? [];
  return new Map(rows.map((r) => [r.field, r.ring]));
}

/**
 * A person's ring settings as the policy engine takes them: placements, custom rings, and their version, all from
 * one snapshot. The version names the settings in the ability cache, so it must never be paired with settings of
 * another version: read in separate snapshots, a change committing in between would file the old settings under the
 * new version until the next change.
 */
export async function readUserRings(q: Queryable, userId: string): Promise<UserRings> {
  if (!q.isTransaction) {
    return (q as Knex).transaction((trx) => readUserRingsIn(trx, userId), { isolationLevel: 'repeatable read', readOnly: true });
  }
  return readUserRingsIn(q as Knex.Transaction, userId);
}

async function readUserRingsIn(trx: Knex.Transaction, userId: string): Promise<UserRings> {
  // Version first: in a caller's read-committed transaction, where each statement sees what has committed, a change
  // committing in between can then only pair newer settings with the older version, never older settings with the
  // newer version (which the cache would keep serving after the change).
  const version = await readRingsVersion(trx, userId);
  const profile = await findProfileByUser(trx, userId);
  const placements = profile ? await readPlacements(trx, profile.id) : new Map<string, string>();
  const rows = await listCustomRings(trx, userId);
  const custom: CustomRing[] = rows.map((r) => ({
    id: r.id,
    name: r.name,
    ...(r.description ? { description: r.description } : {}),
    fields: [...placements].filter(([, ring]) => ring === `${CUSTOM_PREFIX}${r.id}`).map(([field]) => field),
    roles: r.roles,
    services: r.services,
  }));
  return { userId, version, placements: Object.fromEntries(placements), custom };
}

/** The role of each registered service among `clientIds`. */
export async function serviceRoles(q: Queryable, clientIds: readonly string[]): Promise<Map<string, string>> {
  if (clientIds.length === 0) return new Map();
  const rows = (await q('services').whereIn('client_id', clientIds).select('client_id', 'role')) as { client_id: string; role: string }[];
  return new Map(rows.map((r) => [r.client_id, r.role]));
}
