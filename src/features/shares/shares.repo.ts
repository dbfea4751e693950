/**
 * The shares' tables: the shares issued (their status bits), the Token Status Lists they point into, and the
 * requests services make for them. The liveness check of a release under a share is here too.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Queryable } from '../../store/db.ts';

/** Statuses per list: 1 bit each, so a list is 8 KiB before compression. */
const STATUS_LIST_SIZE = 65_536;
/** A list takes new shares until a quarter of it is used: random indices stay cheap to find, and the herd large. */
const LIST_FILL = STATUS_LIST_SIZE / 4;
const STATUS_LOCK = 0x53484152; // "SHAR": one allocator of status lists at a time

/**
 * The liveness check of a release under a share (src/disclosure/basis.ts, liveIds): of the share ids bound, those
 * neither revoked nor expired, locked FOR SHARE in id order. A revocation is an UPDATE of `revoked_at` (the row
 * stays: its status bit is published for as long as the credential lives), which FOR KEY SHARE would not wait for;
 * FOR SHARE is the weakest lock that update waits for, so a revocation either committed first or waits until the
 * release is on record. Revocations lock their rows in id order too (revokeSharesOfService).
 */
export const LIVE_SHARES_LOCKED = `select id::text as id from shares
        where id = any(?::uuid[]) and revoked_at is null and expires_at > current_timestamp
        order by id for share`;

export interface ShareRow {
  id: string;
  user_id: string;
  client_id: string;
  fields: string[];
  jti: string;
  status_list_id: string;
  status_idx: number;
  request_id: string | null;
  sealed_token: Uint8Array | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const fieldsOf = (v: unknown): string[] => (typeof v === 'string' ? (JSON.parse(v) as string[]) : (v as string[]));
const rowOf = (r: ShareRow): ShareRow => ({ ...r, fields: fieldsOf(r.fields) });

/**
 * Inserts a share and gives it a random free index in a status list with room (a new list when none has), in the
 * caller's transaction; answers where its status bit is.
 */
export async function insertShare(
  trx: Knex.Transaction,
  share: { id: string; userId: string; clientId: string; fields: readonly string[]; jti: string; expiresAt: Date; requestId?: string },
): Promise<{ statusListId: string; statusIdx: number }> {
  await trx.raw('select pg_advisory_xact_lock(?)', [STATUS_LOCK]);
  const open = (await trx('status_lists as l')
    .select('l.id')
    .whereRaw('(select count(*) from shares s where s.status_list_id = l.id) < ?', [LIST_FILL])
    .orderBy('l.created_at', 'desc')
    .first()) as { id: string } | undefined;
  let listId = open?.id;
  if (!listId) {
    listId = randomUUID();
    await trx('status_lists').insert({ id: listId, size: STATUS_LIST_SIZE });
  }
  // At most a quarter of the list is taken, so a random index is free three times in four.
  for (;;) {
    const idx = randomInt(STATUS_LIST_SIZE);
    const inserted = await trx('shares')
      .insert({
        id: share.id,
        user_id: share.userId,
        client_id: share.clientId,
        fields: JSON.stringify(share.fields),
        jti: share.jti,
        status_list_id: listId,
        status_idx: idx,
        request_id: share.requestId ?? null,
        expires_at: share.expiresAt,
      })
      .onConflict(['status_list_id', 'status_idx'])
      .ignore()
      .returning('id');
    if (inserted.length > 0) return { statusListId: listId, statusIdx: idx };
  }
}

/** Keeps a request's credential, sealed, for its service to collect. */
export async function storeSealedToken(q: Queryable, shareId: string, sealed: Buffer): Promise<void> {
  await q('shares').where({ id: shareId }).update({ sealed_token: sealed });
}

/** Deletes a share that never left (its release was refused). */
export async function deleteShare(q: Queryable, shareId: string): Promise<void> {
  await q('shares').where({ id: shareId }).delete();
}

/** Where a page of a newest-first list ends: the last row's creation time (in microseconds) and id. */
export interface ListPosition {
  atUs: string;
  id: string;
}

/** The columns and condition of keyset pages over (created_at, id), newest first, after `after`. */
function page(builder: Knex.QueryBuilder, table: string, after: ListPosition | undefined, limit: number): Knex.QueryBuilder {
  builder
    .select(builder.client.raw(`(extract(epoch from ${table}.created_at) * 1000000)::bigint::text as at_us`))
    .orderBy(`${table}.created_at`, 'desc')
    .orderBy(`${table}.id`, 'desc')
    .limit(limit);
  if (after) {
    builder.andWhereRaw(`(${table}.created_at, ${table}.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)`, [
      after.atUs,
      after.id,
    ]);
  }
  return builder;
}

/** A page of the person's shares, newest first, with the services' names. */
export async function listSharesOfUser(
  q: Queryable,
  userId: string,
  limit: number,
  after?: ListPosition,
): Promise<(ShareRow & { service_name: string; at_us: string })[]> {
  const builder = q('shares as s')
    .join('services as v', 'v.client_id', 's.client_id')
    .select('s.*', 'v.name as service_name')
    .where('s.user_id', userId);
  return ((await page(builder, 's', after, limit)) as (ShareRow & { service_name: string; at_us: string })[]).map((r) => ({
    ...rowOf(r),
    service_name: r.service_name,
    at_us: r.at_us,
  }));
}

/** One share by its credential's `jti`. */
export async function findShareByJti(q: Queryable, jti: string): Promise<ShareRow | undefined> {
  const row = (await q('shares').where({ jti }).first()) as ShareRow | undefined;
  return row && rowOf(row);
}

/** The share of a request. */
export async function findShareOfRequest(q: Queryable, requestId: string): Promise<ShareRow | undefined> {
  const row = (await q('shares').where({ request_id: requestId }).first()) as ShareRow | undefined;
  return row && rowOf(row);
}

/**
 * Revokes one of the person's shares (its status bit set from now on); the row as it now is, or undefined when the
 * person has no such share. Revoking a revoked share changes nothing.
 */
export async function revokeShareOfUser(trx: Knex.Transaction, userId: string, shareId: string): Promise<ShareRow | undefined> {
  const [row] = (await trx('shares')
    .where({ id: shareId, user_id: userId })
    .update({ revoked_at: trx.raw('coalesce(revoked_at, current_timestamp)') })
    .returning('*')) as ShareRow[];
  return row && rowOf(row);
}

/** Revokes every live share the person made for a service, locking them in id order first; their ids. */
export async function revokeSharesOfService(trx: Knex.Transaction, userId: string, clientId: string): Promise<string[]> {
  const ids = (await trx('shares')
    .where({ user_id: userId, client_id: clientId })
    .whereNull('revoked_at')
    .orderBy('id')
    .forUpdate()
    .pluck('id')) as string[];
  if (ids.length > 0) await trx('shares').whereIn('id', ids).update({ revoked_at: trx.fn.now() });
  return ids;
}

/** A status list's size and the indices of its revoked shares; undefined when there is no such list. */
export async function readStatusList(q: Queryable, listId: string): Promise<{ size: number; revoked: number[] } | undefined> {
  const list = (await q('status_lists').where({ id: listId }).first('size')) as { size: number } | undefined;
  if (!list) return undefined;
  const revoked = (await q('shares')
    .where({ status_list_id: listId })
    .whereNotNull('revoked_at')
    .orderBy('status_idx')
    .pluck('status_idx')) as number[];
  return { size: list.size, revoked };
}

export interface RequestRow {
  id: string;
  user_id: string;
  client_id: string;
  fields: string[];
  purpose: string;
  state: 'pending' | 'approved' | 'declined';
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
}

const requestOf = (r: RequestRow): RequestRow => ({ ...r, fields: fieldsOf(r.fields) });

export async function insertRequest(
  q: Queryable,
  request: { id: string; userId: string; clientId: string; fields: readonly string[]; purpose: string; expiresAt: Date },
): Promise<RequestRow> {
  const [row] = (await q('share_requests')
    .insert({
      id: request.id,
      user_id: request.userId,
      client_id: request.clientId,
      fields: JSON.stringify(request.fields),
      purpose: request.purpose,
      state: 'pending',
      expires_at: request.expiresAt,
    })
    .returning('*')) as RequestRow[];
  return requestOf(row);
}

/** The requests a service made of a person since `since`, oldest first (their times): what its rate limit counts. */
export async function requestTimes(q: Queryable, clientId: string, userId: string, since: Date): Promise<Date[]> {
  return (await q('share_requests')
    .where({ client_id: clientId, user_id: userId })
    .andWhere('created_at', '>', since)
    .orderBy('created_at')
    .pluck('created_at')) as Date[];
}

/** A page of the person's requests, newest first, with the services' names and roles. */
export async function listRequestsOfUser(
  q: Queryable,
  userId: string,
  limit: number,
  after?: ListPosition,
): Promise<(RequestRow & { service_name: string; role: string; at_us: string })[]> {
  const builder = q('share_requests as r')
    .join('services as v', 'v.client_id', 'r.client_id')
    .select('r.*', 'v.name as service_name', 'v.role')
    .where('r.user_id', userId);
  const rows = (await page(builder, 'r', after, limit)) as (RequestRow & { service_name: string; role: string; at_us: string })[];
  return rows.map((r) => ({ ...requestOf(r), service_name: r.service_name, role: r.role, at_us: r.at_us }));
}

/** One of the person's requests, locked for its decision. */
export async function lockRequestOfUser(trx: Knex.Transaction, userId: string, requestId: string): Promise<RequestRow | undefined> {
  const row = (await trx('share_requests').where({ id: requestId, user_id: userId }).forUpdate().first()) as RequestRow | undefined;
  return row && requestOf(row);
}

/** One of the service's requests. */
export async function findRequestOfService(q: Queryable, clientId: string, requestId: string): Promise<RequestRow | undefined> {
  const row = (await q('share_requests').where({ id: requestId, client_id: clientId }).first()) as RequestRow | undefined;
  return row && requestOf(row);
}

/** Puts an approval that issued nothing back to pending, for the person to decide again. */
export async function reopenRequest(q: Queryable, requestId: string): Promise<void> {
  await q('share_requests').where({ id: requestId, state: 'approved' }).update({ state: 'pending', decided_at: null });
}

export async function decideRequest(q: Queryable, requestId: string, state: 'approved' | 'declined'): Promise<void> {
  await q('share_requests').where({ id: requestId }).update({ state, decided_at: q.fn.now() });
}
