/**
 * The one knex instance: PostgreSQL through `pg` when DATABASE_URL is set, else PGlite (Postgres in WebAssembly)
 * persisted in DATA_DIR. Only repository files use it; they take an optional transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Config } from '../config.ts';
import { acquireDirLock, type DirLock } from './lock.ts';

/**
 * knex-pglite names a response's command after knex's method, and a delete's method is `del`: knex then returns
 * the raw response instead of the number of rows deleted. Deletes count their rows here as they do on `pg`.
 */
class PgLiteClient extends (ClientPgLite as unknown as new (config: Knex.Config) => { processResponse(obj: unknown, runner: unknown): unknown }) {
  override processResponse(obj: { method?: string; returning?: unknown }, runner: unknown): unknown {
    const result = super.processResponse(obj, runner);
    if (obj.method === 'del' && !obj.returning && result && typeof result === 'object' && 'rowCount' in result) {
      return (result as { rowCount: number }).rowCount;
    }
    return result;
  }
}

export type Db = Knex;
/** Anything that runs queries: the instance or a transaction. */
export type Queryable = Knex | Knex.Transaction;

export interface Store {
  db: Db;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PGlite only: keep the database in memory (tests of the embedded path), no DATA_DIR and no lock. */
  inMemory?: boolean;
}

export async function openStore(config: Config, options: StoreOptions = {}): Promise<Store> {
  if (config.databaseUrl) {
    const db = knexFactory({
      client: 'pg',
      connection: { connectionString: config.databaseUrl, application_name: 'ringfence' },
      pool: { min: 0, max: 10 },
      // A failed query's error would otherwise carry its SQL with the values filled in: hashes, tokens, sealed data.
      compileSqlOnError: false,
    });
    return { db, kind: 'postgres', close: () => db.destroy() };
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
      client: PgLiteClient as unknown as typeof Knex.Client,
      dialect: 'postgres',
      connection,
      compileSqlOnError: false,
    });
    await db.raw('select 1');
    return {
      db,
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
