/**
 * oidc-provider's storage adapter over one knex table. It implements exactly the interface of the provider's
 * example adapter (upsert, find, findByUserCode, findByUid, consume, destroy, revokeByGrantId); `find` never returns
 * an expired payload. The `Client` model is served from the services registry instead, so a disabled service is
 * unknown to the provider at once.
 *
 * Ids that are bearer secrets (tokens, codes, and the session and interaction ids the browser holds in cookies) are
 * stored only as their SHA-256 (hex), like every other token in Ringfence: a copy of the table issues nothing. The
 * provider's payloads repeat the id as `jti` (and an interaction's resume URL ends with it, and names its session's
 * cookie value), so those are taken out before a payload is stored and put back when it is found by its id.
 * Grant ids are kept as they are: nothing accepts a grant id from outside, and the `grant_id` of tokens, revocation
 * (src/oidc/grants.repo.ts) and the audit log name grants by it.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { hashToken } from '../crypto/tokens.ts';
import { runStatement, statementsOf, type Db, type Queryable, type RunStatement } from '../store/db.ts';
import { findServiceClientMetadata } from './services.ts';

/** The models whose id is a bearer secret: each is stored and looked up by the hash of its id. */
const HASHED_ID_KINDS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'InitialAccessToken',
  'RegistrationAccessToken',
  // The `_session` and `_interaction` cookies hold these ids.
  'Session',
  'Interaction',
]);

/** Where an interaction's resume URL (`returnTo`, ending with the interaction's id) keeps the id while stored. */
const ID_IN_URL = '{uid}';

/** The key a model's record is stored under: the hash of a secret id, any other id as it is. */
export function storedId(kind: string, id: string): string {
  return HASHED_ID_KINDS.has(kind) ? hashToken(id) : id;
}

/** The payload as stored (JSON): without the secret id, which is checked to appear nowhere in it. */
function conceal(kind: string, id: string, payload: AdapterPayload): string {
  if (!HASHED_ID_KINDS.has(kind)) return JSON.stringify(payload);
  const { jti, ...stored } = payload as AdapterPayload & { returnTo?: string; session?: Record<string, unknown> };
  if (jti !== undefined && jti !== id) throw new Error(`oidc adapter: a ${kind} payload names another id than the one it is stored under`);
  if (typeof stored.returnTo === 'string') stored.returnTo = stored.returnTo.replaceAll(id, ID_IN_URL);
  // The session's cookie value, copied into each interaction; the provider finds the session by its uid instead.
  if (stored.session && typeof stored.session === 'object' && 'cookie' in stored.session) {
    const { cookie: _cookie, ...session } = stored.session;
    stored.session = session;
  }
  const json = JSON.stringify(stored);
  if (json.includes(id)) {
    throw new Error(`oidc adapter: a ${kind} payload repeats its id in a field the adapter does not know; it is not stored in clear`);
  }
  return json;
}

interface Row {
  payload: AdapterPayload | string;
  consumed_at: Date | null;
}

/**
 * A stored record as the provider expects it: `consumed` from its column, and, when the record was found by its id,
 * the id put back where conceal took it from. Found by uid or user code, a record of a hashed kind comes without
 * its `jti`: the provider's only such lookup (Session.findByUid, at the end of an interaction and for tokens bound
 * to a session) reads the session and never saves it back. The device flow, whose codes are found by user code and
 * then saved, is not enabled (src/oidc/provider.ts); enabling it needs the device code's id kept sealed instead.
 */
export function readStored(kind: string, id: string | undefined, row: Row): AdapterPayload {
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : { ...row.payload }) as AdapterPayload & { returnTo?: string };
  if (id !== undefined && HASHED_ID_KINDS.has(kind)) {
    payload.jti = id;
    if (typeof payload.returnTo === 'string') payload.returnTo = payload.returnTo.replaceAll(ID_IN_URL, id);
  }
  return row.consumed_at ? { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) } : payload;
}

/** A stored record, inserted or replaced whole (its consumed_at, set only by consume, is kept). */
const UPSERT = `insert into oidc_payloads (kind, id, payload, grant_id, uid, user_code, account_id, client_id, expires_at)
  values (?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)
  on conflict (kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
    user_code = excluded.user_code, account_id = excluded.account_id, client_id = excluded.client_id, expires_at = excluded.expires_at`;
const FIND = `select payload, consumed_at from oidc_payloads
  where kind = ? and id = ? and (expires_at is null or expires_at > current_timestamp)`;
const CONSUME = 'update oidc_payloads set consumed_at = current_timestamp where kind = ? and id = ?';

const UUID = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
/**
 * Counts one more change of the grants of the people whose account ids the query `accounts` answers (one column):
 * what keeps each person's subscribers counted (migration 033, src/features/deliveries/subscriber-groups.ts) from
 * being read after a grant changed. It belongs in the statement or the transaction of the grant's write.
 */
const countGrantChanges = (accounts: string) => `insert into subscriber_groups (user_id, generation)
  select u.id, 1 from (select distinct case when a ~ ${UUID} then a::uuid end as id from (${accounts}) as x(a)) p
    join users u on u.id = p.id
  on conflict (user_id) do update set generation = subscriber_groups.generation + 1`;
// A grant saved or destroyed, and its person's grants counted changed, in one statement.
const UPSERT_GRANT = `with saved as (${UPSERT} returning account_id) ${countGrantChanges('select account_id from saved')}`;
const DESTROY_GRANT = `with gone as (delete from oidc_payloads where kind = 'Grant' and id = ? returning account_id)
  ${countGrantChanges('select account_id from gone')}`;

/** Counts one more change of the person's grants (countGrantChanges), for a write of grants outside the adapter. */
export async function grantsChanged(q: Queryable, userIds: readonly string[]): Promise<void> {
  if (userIds.length > 0) await q.raw(countGrantChanges('select unnest(?::text[])'), [[...userIds]]);
}

/** Builds the adapter class oidc-provider instantiates once per model name. */
export function createAdapterClass(db: Queryable) {
  // The statements every token request runs (find, upsert, consume) are named and, outside a transaction, sent
  // straight to the driver (src/store/db.ts runStatement): planned once per connection, without knex's builder.
  const run: RunStatement = db.isTransaction ? statementsOf(db) : (name, sql, bindings) => runStatement(db as Db, name, sql, bindings);
  return class KnexAdapter implements Adapter {
    readonly name: string;

    constructor(name: string) {
      this.name = name;
    }

    #live() {
      return db('oidc_payloads')
        .where({ kind: this.name })
        .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()));
    }

    #read(id: string | undefined, row: Row | undefined): AdapterPayload | undefined {
      return row ? readStored(this.name, id, row) : undefined;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.name === 'Client') throw new Error('clients are registered through the services registry');
      await run(this.name === 'Grant' ? 'rf_oidc_upsert_grant' : 'rf_oidc_upsert', this.name === 'Grant' ? UPSERT_GRANT : UPSERT, [
        this.name,
        storedId(this.name, id),
        conceal(this.name, id, payload),
        payload.grantId ?? null,
        payload.uid ?? null,
        payload.userCode ?? null,
        payload.accountId ?? null,
        payload.clientId ?? null,
        expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      ]);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') return findServiceClientMetadata(db, id);
      const [row] = await run<Row>('rf_oidc_find', FIND, [this.name, storedId(this.name, id)]);
      return this.#read(id, row);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#read(undefined, await this.#live().andWhere({ user_code: userCode }).first('payload', 'consumed_at'));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#read(undefined, await this.#live().andWhere({ uid }).first('payload', 'consumed_at'));
    }

    async consume(id: string): Promise<void> {
      await run('rf_oidc_consume', CONSUME, [this.name, storedId(this.name, id)]);
    }

    async destroy(id: string): Promise<void> {
      if (this.name === 'Grant') return void (await db.raw(DESTROY_GRANT, [id]));
      await db('oidc_payloads')
        .where({ kind: this.name, id: storedId(this.name, id) })
        .delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db('oidc_payloads').where({ kind: this.name, grant_id: grantId }).delete();
    }
  };
}

/** Deletes expired rows; returns how many. Run periodically by the service. */
export async function sweepExpiredPayloads(db: Queryable): Promise<number> {
  return db('oidc_payloads').where('expires_at', '<=', db.fn.now()).delete();
}

/**
 * The models issued under a grant, which revoking it removes: the token models oidc-provider itself calls
 * revokeByGrantId on when it revokes a grant (lib/helpers/revoke.js). Other rows may name a grant without being
 * issued under it: an in-flight Interaction carries the id of the grant it would extend (`grantId`), and must
 * outlive that grant's replacement, or the consent that replaces it can never finish.
 */
export const ISSUED_UNDER_GRANT: readonly string[] = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
];

/** Removes a grant and everything issued under it (codes, access and refresh tokens) in one statement. */
export async function destroyGrant(db: Queryable, grantId: string): Promise<number> {
  return db('oidc_payloads')
    .where((q) => q.where({ grant_id: grantId }).whereIn('kind', ISSUED_UNDER_GRANT))
    .orWhere((q) => q.where({ kind: 'Grant', id: grantId }))
    .delete();
}
