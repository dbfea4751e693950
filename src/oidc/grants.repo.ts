/**
 * The owner of the provider's table (oidc_payloads) outside its adapter (src/oidc/adapter.ts): every other query on
 * it — the data API's token check, grants listed, revoked and replaced, the liveness check that admits a release
 * under a grant, the provider's browser sessions ended — is here, and a grant's scopes are parsed here, once.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { AdapterPayload } from 'oidc-provider';
import { profileSnapshotSql, type SnapshotColumns } from '../disclosure/snapshot.repo.ts';
import { runStatement, type Db, type Queryable } from '../store/db.ts';
import { destroyGrant, grantsChanged, ISSUED_UNDER_GRANT } from './adapter.ts';

/** The grant, the service and the person's profile as stored, read with an access token. */
interface GrantServiceAndProfile extends SnapshotColumns {
  /** The grant's payload as stored, as text (the caller parses it only when it differs from the last one seen). */
  grant_payload: string | null;
  grant_consumed_at: Date | null;
  service_client_id: string | null;
  service_role: string | null;
  service_disabled_at: Date | null;
  service_subject_type: string | null;
}

/** The access token, its grant, its service and the person's profile as stored, read together. */
export interface TokenRow extends GrantServiceAndProfile {
  token_kind: 'AccessToken' | 'ClientCredentials';
  token_payload: AdapterPayload | string;
  token_consumed_at: Date | null;
}

/** What a known token's statement reads: whether the token is still stored, beside the rest. */
export interface KnownTokenRow extends GrantServiceAndProfile {
  token_live: boolean;
}

/** The facts of a verified access token that name the rows its requests read (src/oidc/resource.ts keeps them). */
export interface TokenRefs {
  kind: 'AccessToken' | 'ClientCredentials';
  grantId: string | undefined;
  clientId: string;
  accountId: string | undefined;
}

const UUID = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
// The person the token is for, when it names one (client credentials tokens do not).
const personOf = (accountId: string) => `(case when ${accountId} ~ ${UUID} then ${accountId}::uuid end)`;
const SNAPSHOT = profileSnapshotSql(personOf('t.account_id'));
const KNOWN_SNAPSHOT = profileSnapshotSql(personOf('k.account_id'));
const GRANT_AND_SERVICE = `g.payload::text as grant_payload, g.consumed_at as grant_consumed_at,
            s.client_id as service_client_id, s.role as service_role, s.disabled_at as service_disabled_at,
            s.subject_type as service_subject_type`;

/**
 * Reads a live access token with its live grant, its service and the profile of the person it is for, in one
 * statement: the data API's whole request is one round trip and one database snapshot (what is released is what
 * was stored when the grant was found live). The token is looked up by its key as the adapter stores it (tokenKey:
 * the hash of its value, the same for both kinds, never an expired row); the caller checks what is read as the
 * provider's models' `find` does (src/oidc/resource.ts). Nothing that can change is cached: a revoked grant or a
 * disabled service is refused on the very next request. A named statement sent straight to the driver (runStatement): PostgreSQL parses and plans it once per
 * connection, and knex's per-query work is skipped.
 */
export async function findTokenGrantAndProfile(db: Db, tokenKey: string): Promise<TokenRow | undefined> {
  const rows = await runStatement<TokenRow>(
    db,
    'rf_data_api_token',
    `select t.kind as token_kind, t.payload as token_payload, t.consumed_at as token_consumed_at,
            ${GRANT_AND_SERVICE},
            ${SNAPSHOT.columns}
       from oidc_payloads t
       left join oidc_payloads g
         on g.kind = 'Grant' and g.id = t.grant_id and (g.expires_at is null or g.expires_at > current_timestamp)
       left join services s on s.client_id = t.client_id
       ${SNAPSHOT.joins}
      where t.kind in ('AccessToken', 'ClientCredentials') and t.id = ?
        and (t.expires_at is null or t.expires_at > current_timestamp)`,
    [tokenKey],
  );
  return rows[0];
}

/**
 * findTokenGrantAndProfile for a token whose payload the caller already verified (an access token's payload never
 * changes): the same statement reads whether the token is still stored and unexpired — revoked, it is gone — in
 * place of its payload, and finds the grant, service and person by the facts the payload named. What can change is
 * read on every request as before.
 */
export async function findKnownTokenGrantAndProfile(db: Db, tokenKey: string, refs: TokenRefs): Promise<KnownTokenRow> {
  const rows = await runStatement<KnownTokenRow>(
    db,
    'rf_data_api_known_token',
    `select exists (select 1 from oidc_payloads t
                     where t.kind = ? and t.id = ? and (t.expires_at is null or t.expires_at > current_timestamp)) as token_live,
            ${GRANT_AND_SERVICE},
            ${KNOWN_SNAPSHOT.columns}
       from (select ?::text as grant_id, ?::text as client_id, ?::text as account_id) k
       left join oidc_payloads g
         on g.kind = 'Grant' and g.id = k.grant_id and (g.expires_at is null or g.expires_at > current_timestamp)
       left join services s on s.client_id = k.client_id
       ${KNOWN_SNAPSHOT.joins}`,
    [refs.kind, tokenKey, refs.grantId ?? null, refs.clientId, refs.accountId ?? null],
  );
  return rows[0];
}

/**
 * The liveness check of a release under a grant (src/disclosure/basis.ts, liveIds): of the grant ids bound, those
 * still live, locked FOR KEY SHARE (the weakest lock a DELETE waits for) in id order — the order revokeGrants and
 * replaceGrants lock them in too, so the two never wait on each other in a cycle.
 */
export const LIVE_GRANTS_LOCKED = `select id from oidc_payloads
        where kind = 'Grant' and id = any(?::text[]) and (expires_at is null or expires_at > current_timestamp)
        order by id for key share`;

/** A grant as stored, its payload parsed. */
export interface StoredGrant {
  id: string;
  clientId: string;
  /** When it was issued (seconds since the epoch; 0 when the payload does not say). */
  issuedAt: number;
  /** The OpenID scopes granted. */
  openid: string[];
  /** Per resource indicator, the scopes granted for it. */
  resources: Record<string, string[]>;
}

interface GrantPayload {
  iat?: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

const words = (text: string | undefined) => (text ?? '').split(' ').filter(Boolean);

function parseGrant(row: { id: string; client_id: string; payload: unknown }): StoredGrant {
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as GrantPayload;
  return {
    id: row.id,
    clientId: row.client_id,
    issuedAt: payload.iat ?? 0,
    openid: words(payload.openid?.scope),
    resources: Object.fromEntries(Object.entries(payload.resources ?? {}).map(([resource, scope]) => [resource, words(scope)])),
  };
}

/** A grant's OpenID scopes and those granted for `resource` (for every resource when it is omitted), sorted. */
export function scopesOf(grant: StoredGrant, resource?: string): string[] {
  const resourceScopes = resource === undefined ? Object.values(grant.resources).flat() : (grant.resources[resource] ?? []);
  return [...new Set([...grant.openid, ...resourceScopes])].sort();
}

const liveGrant = (w: Knex.QueryBuilder, q: Queryable) => w.whereNull('expires_at').orWhere('expires_at', '>', q.fn.now());

/** The person's live grants (to one service, when named), by service. */
export async function listLiveGrants(q: Queryable, userId: string, clientId?: string): Promise<StoredGrant[]> {
  const builder = q('oidc_payloads')
    .where({ kind: 'Grant', account_id: userId })
    .andWhere((w) => liveGrant(w, q))
    .select('id', 'client_id', 'payload')
    .orderBy('client_id');
  if (clientId) builder.andWhere({ client_id: clientId });
  return ((await builder) as { id: string; client_id: string; payload: unknown }[]).map(parseGrant);
}

/** The scopes of every live grant the person gave, per service (OpenID scopes and every resource's together). */
export async function grantedScopes(q: Queryable, userId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, Set<string>>();
  for (const grant of await listLiveGrants(q, userId)) {
    const scopes = out.get(grant.clientId) ?? new Set<string>();
    for (const s of scopesOf(grant)) scopes.add(s);
    out.set(grant.clientId, scopes);
  }
  return new Map([...out].map(([client, scopes]) => [client, [...scopes].sort()]));
}

/** What a revocation removed, by kind. */
export interface RevokedCounts {
  grants: number;
  access_tokens: number;
  refresh_tokens: number;
  authorization_codes: number;
}

/**
 * Removes every grant the person gave the service and everything issued under them; the grant ids removed (none
 * when there were none) and the counts. The grants are locked first, in id order (as LIVE_GRANTS_LOCKED locks
 * them), and the caller records the revocation in the same transaction after this returns: the row locks before
 * the audit chain's.
 */
export async function revokeGrants(trx: Knex.Transaction, userId: string, clientId: string): Promise<{ grantIds: string[]; revoked: RevokedCounts }> {
  const grantIds = (await trx('oidc_payloads')
    .where({ kind: 'Grant', account_id: userId, client_id: clientId })
    .orderBy('id')
    .forUpdate()
    .pluck('id')) as string[];
  if (grantIds.length === 0) return { grantIds, revoked: { grants: 0, access_tokens: 0, refresh_tokens: 0, authorization_codes: 0 } };
  // What was issued under the grants, not every row naming one: an interaction in flight names the grant it would
  // extend, and must survive so the person can still answer it (src/oidc/adapter.ts, ISSUED_UNDER_GRANT).
  const issued = (w: Knex.QueryBuilder) =>
    w
      .where((x) => x.whereIn('grant_id', grantIds).whereIn('kind', ISSUED_UNDER_GRANT))
      .orWhere((x) => x.where({ kind: 'Grant' }).whereIn('id', grantIds));
  const rows = (await trx('oidc_payloads').where(issued).select('kind').count({ n: '*' }).groupBy('kind')) as { kind: string; n: string | number }[];
  const n = (kind: string) => Number(rows.find((r) => r.kind === kind)?.n ?? 0);
  await trx('oidc_payloads').where(issued).delete();
  await grantsChanged(trx, [userId]);
  return {
    grantIds,
    revoked: { grants: n('Grant'), access_tokens: n('AccessToken'), refresh_tokens: n('RefreshToken'), authorization_codes: n('AuthorizationCode') },
  };
}

/**
 * Removes the person's other grants to the service (all but `keep`, the one a consent just saved) with everything
 * issued under them; how many there were, and the OpenID scopes they held.
 */
export async function replaceGrants(
  trx: Knex.Transaction,
  userId: string,
  clientId: string,
  keep: string,
): Promise<{ replaced: number; scopesBefore: Set<string> }> {
  const earlier = (
    (await trx('oidc_payloads')
      .where({ kind: 'Grant', account_id: userId, client_id: clientId })
      .whereNot({ id: keep })
      .orderBy('id')
      .select('id', 'client_id', 'payload')) as { id: string; client_id: string; payload: unknown }[]
  ).map(parseGrant);
  const scopesBefore = new Set<string>();
  for (const grant of earlier) {
    for (const s of grant.openid) scopesBefore.add(s);
    await destroyGrant(trx, grant.id);
  }
  if (earlier.length > 0) await grantsChanged(trx, [userId]);
  return { replaced: earlier.length, scopesBefore };
}

/**
 * Ends the OpenID provider's browser sessions of a user (its `_session` cookies stop signing them in); returns how
 * many. Whoever changes or resets a password, or signs out everywhere, must not stay signed in at the provider.
 */
export async function deleteProviderSessions(q: Queryable, userId: string): Promise<number> {
  return q('oidc_payloads').where({ kind: 'Session', account_id: userId }).delete();
}

/** The people with a live grant to the service (their user ids), at most `limit` of them. */
export async function accountsGrantingService(q: Queryable, clientId: string, limit = 100_000): Promise<string[]> {
  return (await q('oidc_payloads')
    .where({ kind: 'Grant', client_id: clientId })
    .andWhere((w) => liveGrant(w, q))
    .whereNotNull('account_id')
    .distinct('account_id')
    .limit(limit)
    .pluck('account_id')) as string[];
}

// A grant's OpenID scopes and those granted for the resource (the first binding), several grants' run together.
const SCOPES_TEXT = `string_agg(concat_ws(' ', g.payload #>> '{openid,scope}', g.payload -> 'resources' ->> ?::text), ' ')`;
// The person's live grants (the binding: the person's user id).
const LIVE_OF_PERSON = `g.kind = 'Grant' and g.account_id = ?::text and (g.expires_at is null or g.expires_at > current_timestamp)`;

/**
 * The person's live grants, one row per service (`client_id`, `scopes`, and `expires_at`, when the first of them
 * expires): the OpenID scopes and those granted for the resource, as the words of one text (several grants' run
 * together, in no particular order: an aggregate without `order by` needs no sort of the person's grants, and
 * scopeWords sorts the words), which scopeWords reads as scopesOf does — found in SQL without reading a grant into
 * the process, for who a change of the profile may be told to (src/features/deliveries). A fragment for a `with`
 * clause; it takes the resource, then the person's user id.
 */
export const LIVE_GRANT_SCOPES = `select g.client_id, ${SCOPES_TEXT} as scopes, min(g.expires_at) as expires_at
         from oidc_payloads g
        where ${LIVE_OF_PERSON}
        group by g.client_id`;

/**
 * LIVE_GRANT_SCOPES of one service, the one `clientId` (an SQL expression: a lateral join's column) names: one row,
 * `scopes` null without a live grant. Found by the index on (account_id, client_id): it reads that service's rows
 * only. Takes the resource, then the person's user id.
 */
export const liveGrantScopesOf = (clientId: string) => `select ${SCOPES_TEXT} as scopes
         from oidc_payloads g
        where ${LIVE_OF_PERSON} and g.client_id = ${clientId}`;

/** The scopes in a LIVE_GRANT_SCOPES text, each once, sorted (as scopesOf answers them). */
export function scopeWords(text: string): string[] {
  return [...new Set(words(text))].sort();
}

/** A browser session at the provider, as its person lists it: an opaque handle, never the cookie value. */
export interface ProviderSessionInfo {
  handle: string;
  signedInAt: Date | null;
  expiresAt: Date | null;
  /** The services signed in through it. */
  clients: string[];
}

function sessionHandle(storedSessionId: string): string {
  return createHash('sha256').update(`provider-session:${storedSessionId}`).digest('base64url').slice(0, 32);
}

/** The live browser sessions of a user at the provider. */
export async function listProviderSessions(q: Queryable, userId: string): Promise<ProviderSessionInfo[]> {
  const rows = (await q('oidc_payloads')
    .where({ kind: 'Session', account_id: userId })
    .andWhere((b) => b.whereNull('expires_at').orWhere('expires_at', '>', new Date()))
    .select('id', 'payload', 'expires_at')) as { id: string; payload: AdapterPayload | string; expires_at: Date | null }[];
  return rows.map((r) => {
    const payload = (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as AdapterPayload & {
      loginTs?: number;
      authorizations?: object;
    };
    return {
      handle: sessionHandle(r.id),
      signedInAt: typeof payload.loginTs === 'number' ? new Date(payload.loginTs * 1000) : null,
      expiresAt: r.expires_at ? new Date(r.expires_at) : null,
      clients: Object.keys(payload.authorizations ?? {}),
    };
  });
}

/** Ends one browser session of a user at the provider, named by its handle; false when there is none. */
export async function deleteProviderSession(q: Queryable, userId: string, handle: string): Promise<boolean> {
  const ids = (await q('oidc_payloads').where({ kind: 'Session', account_id: userId }).pluck('id')) as string[];
  const id = ids.find((i) => sessionHandle(i) === handle);
  if (!id) return false;
  return (await q('oidc_payloads').where({ kind: 'Session', id }).delete()) > 0;
}
