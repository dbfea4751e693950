/** The health feature's tables: health_records (sealed FHIR resources) and health_links (migrations/024_health.ts). */
import type { Knex } from 'knex';
import type { Queryable } from '../../store/db.ts';

export interface RecordRow {
  id: string;
  user_id: string;
  resource_type: string;
  resource: Uint8Array;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface LinkRow {
  id: string;
  user_id: string;
  token_hash: string;
  wrapped_key: Uint8Array;
  recipient: Uint8Array;
  recipient_hash: string;
  record_ids: string[];
  record_types: string[];
  jwe: string;
  expires_at: Date;
  revoked_at: Date | null;
  code_hash: string | null;
  code_expires_at: Date | null;
  code_sent_at: Date | null;
  codes_sent: number;
  wrong_codes: number;
  accesses: number;
  first_access_at: Date | null;
  last_access_at: Date | null;
  created_at: Date;
}

/**
 * The liveness check of a health link as a basis of release (src/disclosure/basis.ts): not revoked and not past
 * its expiry, the row locked `for key share`, which revocation (an UPDATE of `revoked_at`) waits for.
 */
export const LIVE_HEALTH_LINKS_LOCKED = `select id::text as id from health_links
        where id::text = any(?::text[]) and revoked_at is null and expires_at > current_timestamp
        order by id for key share`;

export async function insertRecord(
  q: Queryable,
  row: Omit<RecordRow, 'version' | 'created_at' | 'updated_at'> & { created_at?: Date },
): Promise<RecordRow> {
  const [inserted] = (await q('health_records').insert(row).returning('*')) as RecordRow[];
  return inserted;
}

export async function findRecord(q: Queryable, userId: string, id: string): Promise<RecordRow | undefined> {
  return (await q('health_records').where({ user_id: userId, id }).first()) as RecordRow | undefined;
}

/** A page of the person's records, oldest first, after the position (created_at, id). */
export async function listRecords(
  q: Queryable,
  userId: string,
  options: { types?: readonly string[]; after?: { at: string; id: string }; limit?: number },
): Promise<RecordRow[]> {
  const builder = q('health_records')
    .where({ user_id: userId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }]);
  if (options.types) builder.whereIn('resource_type', options.types);
  if (options.after) builder.andWhereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [options.after.at, options.after.id]);
  if (options.limit !== undefined) builder.limit(options.limit);
  return (await builder) as RecordRow[];
}

/** The records a link shares: those it names by id and every record of the types it names. */
export async function recordsSharedBy(q: Queryable, link: Pick<LinkRow, 'user_id' | 'record_ids' | 'record_types'>): Promise<RecordRow[]> {
  return (await q('health_records')
    .where({ user_id: link.user_id })
    .andWhere((w) => w.whereIn('id', link.record_ids).orWhereIn('resource_type', link.record_types))
    .orderBy([{ column: 'created_at' }, { column: 'id' }])) as RecordRow[];
}

export async function updateRecord(q: Queryable, userId: string, id: string, resource: Buffer, at: Date): Promise<RecordRow | undefined> {
  const [row] = (await q('health_records')
    .where({ user_id: userId, id })
    .update({ resource, updated_at: at, version: q.raw('version + 1') })
    .returning('*')) as RecordRow[];
  return row;
}

export async function deleteRecord(q: Queryable, userId: string, id: string): Promise<boolean> {
  return (await q('health_records').where({ user_id: userId, id }).delete()) > 0;
}

export async function insertLink(
  q: Queryable,
  row: Omit<
    LinkRow,
    'revoked_at' | 'code_hash' | 'code_expires_at' | 'code_sent_at' | 'codes_sent' | 'wrong_codes' | 'accesses' | 'first_access_at' | 'last_access_at'
  >,
): Promise<void> {
  await q('health_links').insert({ ...row, record_ids: JSON.stringify(row.record_ids), record_types: JSON.stringify(row.record_types) });
}

export async function findLinkByToken(q: Queryable, tokenHash: string): Promise<LinkRow | undefined> {
  return (await q('health_links').where({ token_hash: tokenHash }).first()) as LinkRow | undefined;
}

export async function listLinks(q: Queryable, userId: string): Promise<LinkRow[]> {
  return (await q('health_links')
    .where({ user_id: userId })
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }])) as LinkRow[];
}

/** The person's links still live at `now`, locked for the re-encryption of their JWE. */
export async function lockLiveLinks(trx: Knex.Transaction, userId: string, now: Date): Promise<LinkRow[]> {
  return (await trx('health_links')
    .where({ user_id: userId })
    .whereNull('revoked_at')
    .andWhere('expires_at', '>', now)
    .orderBy('id')
    .forUpdate()) as LinkRow[];
}

export async function setLinkJwe(q: Queryable, id: string, jwe: string): Promise<void> {
  await q('health_links').where({ id }).update({ jwe });
}

/** Revokes a live link of the person (its row lock taken before the audit chain's); false when there is none. */
export async function revokeLink(trx: Knex.Transaction, userId: string, id: string, now: Date): Promise<boolean> {
  return (await trx('health_links').where({ user_id: userId, id }).whereNull('revoked_at').update({ revoked_at: now })) > 0;
}

/**
 * Records a code sent for a live link, at most one per `minIntervalMs` and `maxCodes` over the link's life: false
 * when the link is dead or the code may not be sent now.
 */
export async function storeCode(
  q: Queryable,
  id: string,
  codeHash: string,
  now: Date,
  expiresAt: Date,
  limits: { minIntervalMs: number; maxCodes: number; maxWrong: number },
): Promise<boolean> {
  const rows = await q('health_links')
    .where({ id })
    .whereNull('revoked_at')
    .andWhere('expires_at', '>', now)
    .andWhere('wrong_codes', '<', limits.maxWrong)
    .andWhere('codes_sent', '<', limits.maxCodes)
    .andWhere((w) => w.whereNull('code_sent_at').orWhere('code_sent_at', '<=', new Date(now.getTime() - limits.minIntervalMs)))
    .update({ code_hash: codeHash, code_expires_at: expiresAt, code_sent_at: now, codes_sent: q.raw('codes_sent + 1') });
  return rows > 0;
}

export interface CodeVerdict {
  id: string;
  ok: boolean;
  wrong_codes: number;
  accesses: number;
}

/**
 * Spends one try of a live link's code in one statement: the row is locked and re-read (under parallel tries each
 * waits for the one before and sees its count), a right code is consumed and counted as an access, a wrong one
 * counts against the link's lifetime cap. Undefined when the link is dead or its tries are used up.
 */
export async function spendCode(q: Queryable, tokenHash: string, codeHash: string, now: Date, maxWrong: number): Promise<CodeVerdict | undefined> {
  const { rows } = (await q.raw(
    `with cur as (
       select id, (code_hash is not null and code_hash = ? and code_expires_at > ?) as ok
         from health_links
        where token_hash = ? and revoked_at is null and expires_at > ? and wrong_codes < ?
        for update
     )
     update health_links h
        set wrong_codes = h.wrong_codes + (case when cur.ok then 0 else 1 end),
            code_hash = case when cur.ok then null else h.code_hash end,
            accesses = h.accesses + (case when cur.ok then 1 else 0 end),
            first_access_at = case when cur.ok then coalesce(h.first_access_at, ?) else h.first_access_at end,
            last_access_at = case when cur.ok then ? else h.last_access_at end
       from cur
      where h.id = cur.id
      returning h.id::text as id, cur.ok, h.wrong_codes, h.accesses`,
    [codeHash, now, tokenHash, now, maxWrong, now, now],
  )) as { rows: CodeVerdict[] };
  return rows[0];
}

/** Every access to the person's links, as the audit log recorded it (`health_link.accessed`), oldest first. */
export async function linkAccesses(
  q: Queryable,
  userId: string,
): Promise<{ at: Date; client_ip: string | null; data: { link_id: string; record_ids: string[] } }[]> {
  return (await q('audit_events')
    .where({ action: 'health_link.accessed', subject: `user:${userId}` })
    .orderBy('seq')
    .select('at', 'client_ip', 'data')) as { at: Date; client_ip: string | null; data: { link_id: string; record_ids: string[] } }[];
}
