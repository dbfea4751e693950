/**
 * Signing keys: the OpenID provider's here, the credential issuer's in issuer-keys.ts, both kept the same way —
 * generated here, stored sealed under a KEK-derived key, published as public JWKs — and rotated by the same rule,
 * publish first, sign later:
 *
 *   pending  made by a rotation; published by every instance (it verifies), signs nothing
 *   active   signs; a pending key becomes active at its `activates_at`, by the database's clock
 *   retired  the key an activation replaced; still published (it verifies) for the retention period
 *
 * A rotation's publication delay is longer than any instance takes to see a change (CHANGE_POLL_MS, the bound of
 * src/store/changes.ts, with a margin), so by the time any instance signs with a new key every instance's JWKS has
 * listed it for a while — without a restart, and whether or not one was restarted meanwhile. Relying parties that
 * cache a JWKS are served by the same delay: the operator chooses it longer than their caches live.
 *
 * Why a delay rather than waiting until every instance acknowledged a key: the acknowledgements would cover only our
 * own instances, never a relying party's cached JWKS, which needs the delay anyway; they need a registry of live
 * instances, and a crashed one either blocks every rotation or is declared dead after a timeout — a delay again.
 */
import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import { CHANGE_POLL_MS, notifyChange, type ChangeTopic } from '../store/changes.ts';
import { open, seal, type Keyring } from './envelope.ts';
import { withTransaction } from '../store/db.ts';

type SigningAlg = 'RS256' | 'ES256';
/** How long a retired key is still published for verification. */
export const RETIRED_KEY_RETENTION_DAYS = 30;
/** The publication delay of a rotation unless the operator chooses another: longer than relying parties cache a JWKS. */
export const DEFAULT_PUBLICATION_SECONDS = 10 * 60;
/** The shortest publication delay a rotation may have: twice the longest an instance takes to see the new key. */
export const MIN_PUBLICATION_SECONDS = (2 * CHANGE_POLL_MS) / 1000;

type KeyState = 'pending' | 'active' | 'retired';

/** What every stored signing key is, opened. */
export interface StoredJwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface PrivateJwk extends StoredJwk {
  alg: SigningAlg;
}

/** A table of sealed signing keys and how its keys are made. */
export interface KeyTable<J extends StoredJwk> {
  table: 'signing_keys' | 'issuer_keys';
  /** The keyring purpose the keys are sealed under. */
  purpose: string;
  /** The advisory lock of the table's writers: rotations and the first key. */
  lock: number;
  /** The change notice that tells every instance to read the keys again. */
  topic: ChangeTopic;
  /** One active key of each. */
  algs: readonly string[];
  retentionDays: number;
  generate(alg: string): J;
}

/** One stored key, opened, with its state. */
export interface LoadedKey<J extends StoredJwk> {
  jwk: J;
  state: KeyState;
  activatesAt: Date;
}

/** A rotation refused because the one before it has not activated yet. */
export class RotationPending extends Error {
  override name = 'RotationPending';
}

/** RFC 7638-style: the kid is derived from the public part, so it identifies the key wherever it is published. */
export function kidOf(pub: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(pub)).digest('base64url').slice(0, 22);
}

function generate(alg: string): PrivateJwk {
  const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = alg === 'RS256' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return { ...jwk, kid: kidOf(pub), alg: alg as SigningAlg, use: 'sig' };
}

/** The OpenID provider's keys: one RS256 and one ES256 active. */
const PROVIDER_KEYS: KeyTable<PrivateJwk> = {
  table: 'signing_keys',
  purpose: 'signing-keys',
  lock: 0x4b455953, // "KEYS"
  topic: 'signing_keys',
  algs: ['RS256', 'ES256'],
  retentionDays: RETIRED_KEY_RETENTION_DAYS,
  generate,
};

const aad = (t: KeyTable<StoredJwk>, kid: string) => `${t.table}:${kid}`;

async function insertKey<J extends StoredJwk>(q: Queryable, keyring: Keyring, t: KeyTable<J>, alg: string, delaySeconds: number): Promise<J> {
  const jwk = t.generate(alg);
  await q(t.table).insert({
    kid: jwk.kid,
    alg,
    private_jwk: seal(keyring.derive(t.purpose), JSON.stringify(jwk), aad(t, jwk.kid)),
    state: delaySeconds > 0 ? 'pending' : 'active',
    activates_at: q.raw(`now() + make_interval(secs => ?)`, [delaySeconds]),
  });
  return jwk;
}

/**
 * Moves the table's keys along by the database's clock: pending keys due become active, and an active key with a
 * newer active one of its algorithm retires (at the moment its successor activated). Any instance may run it, any
 * number of times at once: each update re-checks its rows under their locks. Tells every instance when it moved one.
 */
async function settleKeys(q: Queryable, t: KeyTable<StoredJwk>): Promise<void> {
  await withTransaction(q, async (trx) => {
    const promoted = await trx(t.table).where({ state: 'pending' }).andWhere('activates_at', '<=', trx.fn.now()).update({ state: 'active' });
    const retired = (await trx.raw(
      `update ${t.table} as o set state = 'retired',
         retired_at = (select min(n.activates_at) from ${t.table} n where n.alg = o.alg and n.state = 'active' and n.activates_at > o.activates_at)
       where o.state = 'active'
         and exists (select 1 from ${t.table} n where n.alg = o.alg and n.state = 'active' and n.activates_at > o.activates_at)`,
    )) as { rowCount?: number; affectedRows?: number };
    if (promoted + Number(retired.rowCount ?? retired.affectedRows ?? 0) > 0) await notifyChange(trx, t.topic);
  });
}

/** The first key of every algorithm that has none yet (the first start of the first instance). */
async function ensureKeys<J extends StoredJwk>(db: Queryable, keyring: Keyring, t: KeyTable<J>): Promise<void> {
  await withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [t.lock]);
    const present = (await trx(t.table).whereIn('state', ['active', 'pending']).distinct('alg')) as { alg: string }[];
    const missing = t.algs.filter((alg) => !present.some((r) => r.alg === alg));
    for (const alg of missing) await insertKey(trx, keyring, t, alg, 0);
  });
}

interface KeyRow {
  kid: string;
  state: KeyState;
  private_jwk: Uint8Array;
  activates_at: Date;
  /** Milliseconds until the key changes state or stops being published, by the database's clock. */
  changes_in_ms: number | string | null;
}

/** Every published key of the table, opened: active first (newest first), then pending, then retired. */
async function loadKeys<J extends StoredJwk>(
  db: Queryable,
  keyring: Keyring,
  t: KeyTable<J>,
  { settle = true }: { settle?: boolean } = {},
): Promise<{ keys: LoadedKey<J>[]; nextChangeInMs: number | undefined }> {
  // Settling writes (a key due moves on); a reader that must not write (a verifier) reads the keys as they are.
  if (settle) await settleKeys(db, t);
  const rows = (await db(t.table)
    .select('kid', 'state', 'private_jwk', 'activates_at', {
      changes_in_ms: db.raw(
        `extract(epoch from (case state when 'pending' then activates_at when 'retired' then retired_at + make_interval(days => ?) end) - now()) * 1000`,
        [t.retentionDays],
      ),
    })
    .whereIn('state', ['active', 'pending'])
    .orWhere((q) => q.where({ state: 'retired' }).andWhere('retired_at', '>', db.raw(`now() - make_interval(days => ?)`, [t.retentionDays])))
    .orderByRaw(`case state when 'active' then 0 when 'pending' then 1 else 2 end`)
    .orderBy('activates_at', 'desc')) as KeyRow[];
  const key = keyring.derive(t.purpose);
  const keys = rows.map((r) => ({
    jwk: JSON.parse(open(key, Buffer.from(r.private_jwk), aad(t, r.kid)).toString('utf8')) as J,
    state: r.state,
    activatesAt: new Date(r.activates_at),
  }));
  const due = rows.map((r) => (r.changes_in_ms === null ? Number.NaN : Number(r.changes_in_ms))).filter((ms) => Number.isFinite(ms));
  return { keys, nextChangeInMs: due.length > 0 ? Math.max(0, Math.min(...due)) : undefined };
}

/**
 * Adds a pending key of every algorithm, active `publishForSeconds` from now; returns the new kids and when they
 * activate. Refuses (RotationPending) while an earlier rotation is still pending, and (DecryptionError) when the
 * keyring does not open the keys already stored: keys sealed under another KEK would be keys no server opens.
 */
async function rotateKeys<J extends StoredJwk>(
  db: Queryable,
  keyring: Keyring,
  t: KeyTable<J>,
  publishForSeconds: number,
): Promise<{ kids: string[]; activatesAt: Date }> {
  await settleKeys(db, t);
  return withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [t.lock]);
    const key = keyring.derive(t.purpose);
    const live = (await trx(t.table).whereIn('state', ['active', 'pending']).select('kid', 'state', 'private_jwk', 'activates_at')) as KeyRow[];
    for (const r of live) open(key, Buffer.from(r.private_jwk), aad(t, r.kid));
    const pending = live.filter((r) => r.state === 'pending');
    if (pending.length > 0) {
      throw new RotationPending(
        `a rotation is already pending: ${pending.map((r) => r.kid).join(', ')} ${pending.length > 1 ? 'activate' : 'activates'} at ${new Date(pending[0].activates_at).toISOString()}`,
      );
    }
    const kids: string[] = [];
    for (const alg of t.algs) kids.push((await insertKey(trx, keyring, t, alg, publishForSeconds)).kid);
    await notifyChange(trx, t.topic);
    const row = (await trx(t.table).where({ kid: kids[0] }).first('activates_at')) as { activates_at: Date };
    return { kids, activatesAt: new Date(row.activates_at) };
  });
}

export interface KeyInfo {
  kid: string;
  alg: string;
  state: KeyState;
  created_at: Date;
  /** When it signs (signed) from: pending keys sign from then, active ones have since. */
  activates_at: Date;
  retired_at: Date | null;
  /** Whether the instances publish it: pending and active keys, and retired ones within retention. */
  published: boolean;
}

/** Every stored key of the table, newest first, without its private part. */
async function listKeys(db: Queryable, t: KeyTable<StoredJwk>): Promise<KeyInfo[]> {
  await settleKeys(db, t);
  const rows = (await db(t.table)
    .select('kid', 'alg', 'state', 'created_at', 'activates_at', 'retired_at', {
      published: db.raw(`state <> 'retired' or retired_at > now() - make_interval(days => ?)`, [t.retentionDays]),
    })
    .orderBy('created_at', 'desc')
    .orderBy('alg')) as KeyInfo[];
  return rows.map((r) => ({ ...r, published: Boolean(r.published) }));
}

/**
 * A table's published keys as this instance holds them, kept current without a restart: read again on every change
 * notice and poll (src/store/changes.ts: `refresh`) and at the moment the next key activates or stops being
 * published. Listeners hear of every change of the set (a key added, activated, retired or dropped).
 */
export class LiveKeys<J extends StoredJwk> {
  readonly #db: Queryable;
  readonly #keyring: Keyring;
  readonly #table: KeyTable<J>;
  readonly #listeners: ((keys: readonly LoadedKey<J>[]) => void)[] = [];
  #keys: LoadedKey<J>[] = [];
  #fingerprint = '';
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(db: Queryable, keyring: Keyring, table: KeyTable<J>) {
    this.#db = db;
    this.#keyring = keyring;
    this.#table = table;
  }

  /** Makes the first keys if there are none and reads them; throws DecryptionError under a KEK that does not open them. */
  async open(): Promise<this> {
    await ensureKeys(this.#db, this.#keyring, this.#table);
    await this.refresh();
    return this;
  }

  /** Every published key with its state: active first, then pending, then retired. */
  get loaded(): readonly LoadedKey<J>[] {
    return this.#keys;
  }

  /** The keys that sign, newest first. */
  get active(): J[] {
    return this.#keys.filter((k) => k.state === 'active').map((k) => k.jwk);
  }

  /** Every published key (the verifying set): active first. */
  get published(): J[] {
    return this.#keys.map((k) => k.jwk);
  }

  onChange(listener: (keys: readonly LoadedKey<J>[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Reads the keys again; tells the listeners when the set or a state changed. */
  async refresh(): Promise<void> {
    if (this.#closed) return;
    const { keys, nextChangeInMs } = await loadKeys(this.#db, this.#keyring, this.#table);
    clearTimeout(this.#timer);
    if (nextChangeInMs !== undefined && !this.#closed) {
      // At the database's moment of the change (a little after, never before); the poll covers a late timer.
      this.#timer = setTimeout(() => void this.refresh().catch(() => {}), Math.min(nextChangeInMs + 50, 2 ** 31 - 1));
      this.#timer.unref();
    }
    const fingerprint = keys.map((k) => `${k.jwk.kid}:${k.state}`).join(',');
    if (fingerprint === this.#fingerprint) return;
    this.#keys = keys;
    this.#fingerprint = fingerprint;
    for (const listener of this.#listeners) listener(keys);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}

/**
 * The provider's JWKS configuration from its loaded keys: every published key, the active ones first, and only
 * those may sign — a pending or retired key carries `key_ops: ["verify"]`, which oidc-provider's key selection
 * honours, so a key is never used to sign before its time whatever order the keys are in.
 */
export function providerJwks(keys: readonly LoadedKey<PrivateJwk>[]): PrivateJwk[] {
  return keys.map(({ jwk, state }) => (state === 'active' ? jwk : { ...jwk, key_ops: ['verify'] }));
}

/** The provider's signing keys as this instance follows them (LiveKeys); `open()` before use. */
export function liveSigningKeys(db: Queryable, keyring: Keyring): LiveKeys<PrivateJwk> {
  return new LiveKeys(db, keyring, PROVIDER_KEYS);
}

/** The private JWKs the provider signs and verifies with, read once (providerJwks: active first, only they sign). */
export async function loadSigningKeys(db: Queryable, keyring: Keyring): Promise<PrivateJwk[]> {
  await ensureKeys(db, keyring, PROVIDER_KEYS);
  return providerJwks((await loadKeys(db, keyring, PROVIDER_KEYS)).keys);
}

/**
 * Adds a pending RS256 and ES256 key that every instance publishes at once and signs with from `publishForSeconds`
 * from now (no restart). Refuses while a rotation is pending, and (DecryptionError) when the keyring does not open
 * the keys already stored.
 */
export function rotateSigningKeys(
  db: Queryable,
  keyring: Keyring,
  options: { publishForSeconds?: number } = {},
): Promise<{ kids: string[]; activatesAt: Date }> {
  return rotateKeys(db, keyring, PROVIDER_KEYS, options.publishForSeconds ?? DEFAULT_PUBLICATION_SECONDS);
}

export type SigningKeyInfo = KeyInfo;

/** Every stored signing key, newest first, without its private part. */
export function listSigningKeys(db: Queryable): Promise<SigningKeyInfo[]> {
  return listKeys(db, PROVIDER_KEYS);
}

/** Shared with issuer-keys.ts, which keeps its table the same way. */
export { ensureKeys, listKeys, loadKeys, rotateKeys };
