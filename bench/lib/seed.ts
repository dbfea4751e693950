/**
 * Seeding: a few users through the real API (register, then update-info), the rest — 10k to 100k — in bulk.
 *
 * Bulk users are written by the service's own code, never as fabricated rows. Every ensureUsers call writes its
 * first user through the repository functions registration uses (insertUser; insertProfile, a fresh data key
 * wrapped by the KEK; writeFields, every value sealed under the profile's key with its row's associated data),
 * and the rest with multi-row inserts built from the same pieces (Keyring.wrap, seal, fieldAad, emailIndex) by
 * worker threads (seed-rows.ts): one statement per table per batch instead of three per user, which is what
 * makes 100k users fit the run's time. The first bulk user is then checked against the repository-written one
 * (same columns, rings, provenance) and read back through the service's own GET /api/v1/profile, so a drift
 * fails loudly. Bulk users share one real argon2id hash of the benchmark password (hashing 100k passwords would
 * take minutes and measure nothing).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Knex } from 'knex';
import { hashPassword } from '../../src/crypto/passwords.ts';
import type { Keyring } from '../../src/crypto/envelope.ts';
import { insertUser } from '../../src/features/accounts/accounts.repo.ts';
import { emailIndex } from '../../src/features/accounts/email.ts';
import { issueTokens } from '../../src/features/accounts/sessions.ts';
import { loadCatalogue } from '../../src/policy/catalogue.ts';
import { insertProfile, writeFields } from '../../src/profiles/profile.repo.ts';
import { loadConfig } from '../../src/config.ts';
import { loadSigningKeys } from '../../src/crypto/signing-keys.ts';
import { createProvider, DATA_RESOURCE_PATH, STANDARD_SCOPES, TTL, type Provider } from '../../src/oidc/provider.ts';
import { registerService } from '../../src/oidc/services.ts';
import { scopeClaims, supportedScopes } from '../../src/oidc/scopes.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { emailOf, handleOf, profileValues, unseededFields } from './profiles.ts';
import { REGISTRATION_FIELDS, fieldWrites, type BulkRows } from './seed-rows.ts';

const BENCH_PASSWORD = 'benchmark ringfence passphrase, not for production';
const BULK_BATCH = 500;
/** Worker threads building rows while the main thread inserts: the machine the issue sizes for has 2 cores. */
const BULK_PARALLEL = 2;
/** Rows per INSERT of field rows: PostgreSQL takes at most 65,535 parameters per statement. */
const FIELD_ROWS_PER_INSERT = 5000;

export interface SeedUser {
  n: number;
  userId: string;
  profileId: string;
  handle: string;
  email: string;
  password: string;
}

export interface SessionUser {
  userId: string;
  profileId: string;
  /** A session access token (15 minutes), issued by the service's own issueTokens. */
  token: string;
}

export interface SeedService {
  clientId: string;
  /** The plain secret, shown once by the registry and kept here for the load generator. */
  clientSecret: string;
  role: string;
}

/** A person's grant to a service and an access token for the data API issued under it. */
export interface DataApiSession {
  userId: string;
  profileId: string;
  clientId: string;
  /** An opaque access token for `<BASE_URL>/api/v1/data` (10 minutes). */
  token: string;
}

export interface SeederOptions {
  db: Knex;
  keyring: Keyring;
  /** The KEK itself, for the seeding worker threads (a Keyring does not give it out). */
  masterKey: Buffer;
  /** The service the API users register with. */
  serviceUrl: string;
  log(message: string): void;
}

export class Seeder {
  readonly apiUsers: SeedUser[] = [];
  readonly services: SeedService[] = [];
  readonly #o: SeederOptions;
  #next = 0;
  #bulkHash: Promise<string> | undefined;
  #provider: Promise<Provider> | undefined;

  constructor(options: SeederOptions) {
    this.#o = options;
  }

  async userCount(): Promise<number> {
    const [{ n }] = (await this.#o.db('users').count({ n: '*' })) as { n: string | number }[];
    return Number(n);
  }

  async #api(method: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
    const res = await fetch(this.#o.serviceUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  }

  /** Registers `count` more users through POST /api/v1/users/register and fills their profile with update-info. */
  async registerViaApi(count: number): Promise<SeedUser[]> {
    const catalogue = loadCatalogue();
    const start = Math.max(this.#next, await this.userCount());
    this.#next = start + count;
    const made: SeedUser[] = [];
    const one = async (n: number) => {
      const values = profileValues(catalogue, n);
      const reg = await this.#api('POST', '/api/v1/users/register', {
        name: values.name,
        email: values.email,
        handle: values.handle,
        password: BENCH_PASSWORD,
      });
      const rest = Object.fromEntries(Object.entries(values).filter(([f]) => !REGISTRATION_FIELDS.has(f)));
      await this.#api('PUT', '/api/v1/profile/update-info', { updated_fields: rest }, reg.token as string);
      made.push({
        n,
        userId: reg.user_id as string,
        profileId: reg.profile_id as string,
        handle: values.handle as string,
        email: values.email as string,
        password: BENCH_PASSWORD,
      });
    };
    for (let i = 0; i < count; i += 4) {
      await Promise.all(Array.from({ length: Math.min(4, count - i) }, (_, k) => one(start + i + k)));
    }
    this.apiUsers.push(...made.sort((a, b) => a.n - b.n));
    return made;
  }

  /** Adds bulk users until the database holds `total`. */
  async ensureUsers(total: number): Promise<void> {
    const have = await this.userCount();
    if (have >= total) return;
    const missing = total - have;
    const started = Date.now();
    this.#o.log(`seeding ${missing} users (${have} → ${total}) in bulk`);
    const uncovered = unseededFields(loadCatalogue());
    if (uncovered.length > 0) this.#o.log(`  note: no benchmark values for the new catalogue fields ${uncovered.join(', ')} (bench/lib/profiles.ts)`);
    this.#bulkHash ??= hashPassword(BENCH_PASSWORD);
    const passwordHash = await this.#bulkHash;
    const first = Math.max(this.#next, have);
    this.#next = first + missing;

    const reference = await this.#db().transaction((trx) => this.#viaRepository(trx, first, passwordHash));
    const batches: [number, number][] = [];
    for (let n = first + 1; n < first + missing; n += BULK_BATCH) batches.push([n, Math.min(first + missing, n + BULK_BATCH)]);
    let done = 1;
    let lastLog = Date.now();
    let checked = false;
    let waitedMs = 0;
    let insertMs = 0;
    const worker = async () => {
      const builder = rowBuilder(this.#o.masterKey, passwordHash);
      try {
        // The next batch is built while this one is inserted.
        let batch = batches.shift();
        let building = batch ? builder.build(batch[0], batch[1]) : undefined;
        while (batch && building) {
          const [from, to] = batch;
          const t0 = Date.now();
          const rows = await building;
          batch = batches.shift();
          building = batch ? builder.build(batch[0], batch[1]) : undefined;
          const t1 = Date.now();
          await this.#db().transaction((trx) => insertRows(trx, rows));
          waitedMs += t1 - t0;
          insertMs += Date.now() - t1;
          if (!checked) {
            checked = true;
            const bulkId = rows.users[0].id as string;
            await this.#checkShape(reference, bulkId);
            await this.#checkReadable(bulkId, from);
          }
          done += to - from;
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            this.#o.log(`  ${done}/${missing} users seeded`);
          }
        }
      } finally {
        await builder.close();
      }
    };
    await Promise.all(Array.from({ length: BULK_PARALLEL }, worker));
    await this.#db().raw('analyze');
    this.#o.log(
      `seeded ${missing} users in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(per thread: ${(insertMs / 1000 / BULK_PARALLEL).toFixed(1)} s inserting, ${(waitedMs / 1000 / BULK_PARALLEL).toFixed(1)} s waiting for rows)`,
    );
  }

  #db(): Knex {
    return this.#o.db;
  }

  /** User n exactly as registration writes it, through the repository functions; returns its id. */
  async #viaRepository(trx: Knex.Transaction, n: number, passwordHash: string): Promise<string> {
    const userId = randomUUID();
    await insertUser(trx, { id: userId, email_index: emailIndex(this.#o.keyring, emailOf(n)), handle: handleOf(n), password_hash: passwordHash });
    const profile = await insertProfile(trx, this.#o.keyring, userId);
    await writeFields(trx, profile, fieldWrites(n));
    return userId;
  }

  /** Fails unless the service itself opens a bulk user's profile and finds the value sealed for it. */
  async #checkReadable(userId: string, n: number): Promise<void> {
    const { token } = await this.#db().transaction((trx) => issueTokens(trx, userId, '127.0.0.1'));
    const res = await fetch(`${this.#o.serviceUrl}/api/v1/profile`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { fields?: { email?: { value?: unknown } } };
    if (res.status !== 200 || body.fields?.email?.value !== emailOf(n)) {
      throw new Error(`the service cannot read a bulk-seeded profile (${res.status}): ${JSON.stringify(body).slice(0, 300)}`);
    }
  }

  /** Fails when a batch-written user's rows differ in shape from the repository-written one's. */
  async #checkShape(reference: string, bulk: string): Promise<void> {
    const db = this.#db();
    const describe = async (userId: string) => {
      const user = (await db('users').where({ id: userId }).first()) as Record<string, unknown>;
      const profile = (await db('profiles').where({ user_id: userId }).first()) as Record<string, unknown>;
      const rows = (await db('profile_fields').where({ profile_id: profile.id }).orderBy('field')) as Record<string, unknown>[];
      const nulls = (r: Record<string, unknown>) =>
        Object.keys(r)
          .sort()
          .map((k) => `${k}${r[k] === null ? '=null' : ''}`)
          .join(',');
      return JSON.stringify({
        user: nulls(user),
        profile: nulls(profile),
        fields: rows.map((r) => `${r.field}:${r.ring}:${r.provenance}:${r.value === null ? 'null' : 'sealed'}|${nulls(r)}`),
      });
    };
    const [a, b] = [await describe(reference), await describe(bulk)];
    if (a !== b) {
      throw new Error(`bulk seeding writes rows unlike the repository functions; update bench/lib/seed.ts:\n  repository: ${a}\n  bulk:       ${b}`);
    }
  }

  /**
   * Registers services until there are `count`, through the registry's own registerService (secrets stored
   * hashed), their roles taken in turn from policies/roles and every supported scope allowed.
   */
  async ensureServices(count: number): Promise<SeedService[]> {
    const missing = count - this.services.length;
    if (missing <= 0) return this.services.slice(0, count);
    const policies = loadPolicies();
    const roles = [...policies.roles.keys()].sort();
    const scopes = supportedScopes(policies);
    for (let i = this.services.length; i < count; i++) {
      const role = roles[i % roles.length];
      const { service, clientSecret } = await registerService(
        this.#o.db,
        { name: `Benchmark service ${i + 1} (${role})`, role, redirectUris: [`http://127.0.0.1/callback/${i + 1}`] },
        new Set(roles),
        scopes,
      );
      this.services.push({ clientId: service.client_id, clientSecret, role });
    }
    return this.services.slice(0, count);
  }

  /**
   * The provider as the service builds it (src/oidc/provider.ts's createProvider over the same database, KEK,
   * signing keys and issuer), used only to save grants and tokens through its own models and adapter.
   */
  #oidc(): Promise<Provider> {
    this.#provider ??= (async () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        RINGFENCE_MASTER_KEY: this.#o.masterKey.toString('hex'),
        BASE_URL: this.#o.serviceUrl,
        DATABASE_URL: 'postgres://unused.invalid/bench',
      });
      const policies = loadPolicies();
      const standard = new Set<string>(STANDARD_SCOPES);
      return createProvider({
        config,
        db: this.#o.db,
        keyring: this.#o.keyring,
        keys: await loadSigningKeys(this.#o.db, this.#o.keyring),
        claims: {
          extraScopes: () => [...supportedScopes(policies)].filter((s) => !standard.has(s)),
          scopeClaims: () => scopeClaims(policies),
          accountExists: async () => true,
          claimsFor: async () => ({}),
        },
      });
    })();
    return this.#provider;
  }

  /**
   * `count` users drawn at random, each with a grant to one of the first `services` seeded services (in turn) of
   * every scope that service may ask for, and an opaque access token for the data API issued under it — saved
   * through the provider's own Grant and AccessToken models, as a completed consent and code exchange would.
   */
  async dataApiSessions(count: number, services: number): Promise<DataApiSession[]> {
    const provider = await this.#oidc();
    const clients = await this.ensureServices(services);
    const resource = `${this.#o.serviceUrl}${DATA_RESOURCE_PATH}`;
    const allowed = new Map<string, string>();
    for (const c of clients) {
      const client = await provider.Client.find(c.clientId);
      if (!client) throw new Error(`the provider does not know the seeded service ${c.clientId}`);
      allowed.set(
        c.clientId,
        (client.scope ?? '')
          .split(' ')
          .filter((s) => s && s !== 'openid' && s !== 'offline_access')
          .join(' '),
      );
    }
    const out: DataApiSession[] = [];
    const users = await this.sample(count);
    for (const [i, u] of users.entries()) {
      const { clientId } = clients[i % clients.length];
      const scope = allowed.get(clientId)!;
      const grant = new provider.Grant({ accountId: u.userId, clientId });
      grant.addOIDCScope('openid');
      grant.addResourceScope(resource, scope);
      const grantId = await grant.save();
      const token = new provider.AccessToken({
        accountId: u.userId,
        client: (await provider.Client.find(clientId))!,
        grantId,
        gty: 'authorization_code',
        scope,
        resourceServer: new provider.ResourceServer(resource, {
          scope,
          audience: resource,
          accessTokenFormat: 'opaque',
          accessTokenTTL: TTL.AccessToken,
        }),
      });
      out.push({ ...u, clientId, token: await token.save() });
    }
    // As autovacuum would soon after: the planner otherwise takes the new grants for a handful of rows.
    await this.#db().raw('analyze oidc_payloads, services');
    return out;
  }

  /**
   * Signs in `count` users drawn at random from the whole table (so a read touches cold and hot rows alike, as
   * real traffic does): one session each, issued by the service's own issueTokens.
   */
  async sessions(count: number): Promise<SessionUser[]> {
    const users = await this.sample(count);
    return this.#o.db.transaction(async (trx) => {
      const out: SessionUser[] = [];
      for (const u of users) {
        const issued = await issueTokens(trx, u.userId, '127.0.0.1');
        out.push({ ...u, token: issued.token });
      }
      return out;
    });
  }

  /** `count` users drawn at random from the whole table, with their profile ids. */
  async sample(count: number): Promise<{ userId: string; profileId: string }[]> {
    const rows = (await this.#o
      .db('users as u')
      .join('profiles as p', 'p.user_id', 'u.id')
      .select('u.id as user_id', 'p.id as profile_id')
      .orderByRaw('random()')
      .limit(count)) as { user_id: string; profile_id: string }[];
    return rows.map((r) => ({ userId: r.user_id, profileId: r.profile_id }));
  }
}

/** Inserts built rows, one statement per table (field rows in chunks under PostgreSQL's parameter limit). */
async function insertRows(trx: Knex.Transaction, rows: BulkRows): Promise<void> {
  await trx('users').insert(rows.users);
  await trx('profiles').insert(rows.profiles);
  for (let i = 0; i < rows.fields.length; i += FIELD_ROWS_PER_INSERT)
    await trx('profile_fields').insert(rows.fields.slice(i, i + FIELD_ROWS_PER_INSERT));
}

/** Structured clone turns Buffers into Uint8Arrays; bytea columns want Buffers back. */
function toBuffers(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const [k, v] of Object.entries(row))
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return rows;
}

/** A worker thread building batches of rows (seed-worker.ts). */
function rowBuilder(masterKey: Buffer, passwordHash: string): { build(from: number, to: number): Promise<BulkRows>; close(): Promise<void> } {
  const worker = new Worker(new URL('./seed-worker.ts', import.meta.url), { workerData: { masterKey: new Uint8Array(masterKey), passwordHash } });
  const pending = new Map<number, { resolve(rows: BulkRows): void; reject(err: Error): void }>();
  let next = 0;
  worker.on('message', (m: { id: number; rows?: BulkRows; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.rows) p?.resolve({ users: m.rows.users, profiles: toBuffers(m.rows.profiles), fields: toBuffers(m.rows.fields) });
    else p?.reject(new Error(`seeding worker: ${m.error}`));
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  return {
    build(from, to) {
      return new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, from, to });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
