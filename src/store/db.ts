/**
 * The one knex instance: PostgreSQL through `pg` when DATABASE_URL is set, else PGlite (Postgres in WebAssembly)
 * persisted in DATA_DIR. Only repository files use it; they take an optional transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config.ts';
import { acquireDirLock, type DirLock } from './lock.ts';

type KnexClientClass = new (
  config: Knex.Config,
) => {
  processResponse(obj: unknown, runner: unknown): unknown;
  _query(connection: unknown, obj: unknown): Promise<unknown>;
};

let pgLiteClient: Promise<KnexClientClass> | undefined;

/**
 * knex's client for PGlite, loaded when an embedded store is first opened (a process on PostgreSQL never loads
 * PGlite). knex-pglite names a response's command after knex's method, and a delete's method is `del`: knex then
 * returns the raw response instead of the number of rows deleted. Deletes count their rows here as they do on `pg`.
 */
function loadPgLiteClient(): Promise<KnexClientClass> {
  pgLiteClient ??= import('knex-pglite').then(({ default: ClientPgLite }) => {
    return class PgLiteClient extends (ClientPgLite as unknown as KnexClientClass) {
      /**
       * PGlite's errors carry the statement's bound values (`params`, and its `queryOptions`), which the error log
       * would serialize: hashes, tokens, sealed data. They are dropped here, as `compileSqlOnError: false` keeps them
       * out of pg's errors, with PostgreSQL's `detail`, which quotes the offending value (`Key (v)=(…) already
       * exists`); the SQL text (placeholders only), the code, the constraint and the message stay.
       */
      override async _query(connection: unknown, obj: unknown): Promise<unknown> {
        try {
          return await super._query(connection, obj);
        } catch (err) {
          if (err && typeof err === 'object') {
            delete (err as { params?: unknown }).params;
            delete (err as { queryOptions?: unknown }).queryOptions;
            delete (err as { detail?: unknown }).detail;
          }
          throw err;
        }
      }

      override processResponse(obj: { method?: string; returning?: unknown }, runner: unknown): unknown {
        const result = super.processResponse(obj, runner);
        if (obj.method === 'del' && !obj.returning && result && typeof result === 'object' && 'rowCount' in result) {
          return (result as { rowCount: number }).rowCount;
        }
        return result;
      }
    };
  });
  return pgLiteClient;
}

export type Db = Knex;
/** Anything that runs queries: the instance or a transaction. */
export type Queryable = Knex | Knex.Transaction;

export interface Store {
  /** The primary: every write, and every read that decides access. */
  db: Db;
  /**
   * Reads that may be slightly stale, and nothing else: the public directory (GET /profiles). The replica's own pool
   * when DATABASE_REPLICA_URL is set, else `db` itself. The rule: a read that admits, refuses or chooses what a caller
   * may see for a person (tokens, grants, sessions, services, rings, policy, keys, audit) never reads here, because a
   * replica replays the primary's WAL behind it and would answer a revoked grant as live for as long as it lags.
   * The directory shows only what each person made public, and a change there is a person's own edit, not a
   * revocation of anyone's access: it may appear a replication lag late (docs/scale-out.md, Read replicas).
   */
  replica: Db;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PGlite only: keep the database in memory (tests of the embedded path), no DATA_DIR and no lock. */
  inMemory?: boolean;
}

function pgPool(connectionString: string, applicationName: string, max: number): Db {
  return knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: applicationName },
    pool: { min: 0, max },
    // A failed query's error would otherwise carry its SQL with the values filled in: hashes, tokens, sealed data.
    compileSqlOnError: false,
  });
}

export async function openStore(config: Config, options: StoreOptions = {}): Promise<Store> {
  if (config.databaseUrl) {
    const db = pgPool(config.databaseUrl, 'ringfence', 10);
    if (!config.databaseReplicaUrl) return { db, replica: db, kind: 'postgres', close: () => db.destroy() };
    // Its own application_name, so that the replica's pg_stat_activity shows whose connections these are.
    const replica = pgPool(config.databaseReplicaUrl, 'ringfence-replica', 5);
    return {
      db,
      replica,
      kind: 'postgres',
      async close() {
        await Promise.all([db.destroy(), replica.destroy()]);
      },
    };
  }

  let lock: DirLock | undefined;
  let connection: Knex.StaticConnectionConfig = {} as Knex.StaticConnectionConfig;
  if (!options.inMemory) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    lock = acquireDirLock(config.dataDir);
    connection = { filename: path.join(config.dataDir, 'pgdata') } as Knex.StaticConnectionConfig;
  }
  try {
    const db = knexFactory({
      client: (await loadPgLiteClient()) as unknown as typeof Knex.Client,
      dialect: 'postgres',
      connection,
      compileSqlOnError: false,
    });
    await db.raw('select 1');
    return {
      db,
      replica: db,
      kind: 'pglite',
      async close() {
        try {
          await db.destroy();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/** Runs `fn` in one transaction: every multi-row write goes through here, so a failure writes nothing. */
export function withTransaction<T>(db: Queryable, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Knex.Transaction);
  return (db as Knex).transaction(fn);
}

/** Runs one named statement (`?` placeholders, as in knex.raw) and resolves to its rows. */
export type RunStatement = <T = Record<string, unknown>>(name: string, sql: string, bindings: readonly unknown[]) => Promise<T[]>;

/** The statements of a knex instance or transaction, through knex.raw: for code that also runs in callers' transactions. */
export function statementsOf(q: Queryable): RunStatement {
  return async <T>(name: string, sql: string, bindings: readonly unknown[]) =>
    ((await q.raw(sql, bindings as Knex.RawBinding[]).options({ name })) as { rows: T[] }).rows;
}

/** The connection of the pg driver, as far as these helpers use it. */
interface PgConnection {
  query(config: string | { name?: string; text: string; values?: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

interface PooledClient {
  config: { client?: unknown };
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

/** Statement texts in the driver's `$n` form, by statement name (a name always has the same text). */
const positional = new Map<string, string>();

function toPositional(name: string, sql: string): string {
  let text = positional.get(name);
  if (text === undefined) {
    let n = 0;
    // These statements use `?` for parameters only (no jsonb `?` operator), as knex.raw would read them.
    text = sql.replace(/\?/g, () => `$${++n}`);
    positional.set(name, text);
  }
  return text;
}

/** knex's client when it drives `pg` (openStore names it so); undefined on PGlite, whose client extends knex's pg client. */
function pgClient(db: Db): PooledClient | undefined {
  const client = db.client as unknown as PooledClient;
  return client.config.client === 'pg' ? client : undefined;
}

/**
 * Runs one named statement on a pooled connection, sent straight to the pg driver (knex.raw on PGlite): knex's
 * builder and runner cost about 80 µs of CPU a statement (measured), more than the driver itself, which matters on
 * a hot path that is one fixed statement. Named: parsed and planned once per connection. Not for a statement that
 * must run in a caller's transaction (statementsOf).
 */
export async function runStatement<T = Record<string, unknown>>(db: Db, name: string, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  const client = pgClient(db);
  if (!client) return statementsOf(db)<T>(name, sql, bindings);
  // Reported as knex reports its own statements, for whatever traces queries (bench/query-trace.ts).
  if (db.listenerCount('query') > 0) db.emit('query', { sql, bindings, method: 'raw', options: { name } });
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ name, text: toPositional(name, sql), values: bindings })).rows as T[];
  } finally {
    await client.releaseConnection(connection);
  }
}
