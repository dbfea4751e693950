/** Runs the numbered, forward-only knex migrations in migrations/ on PostgreSQL and PGlite alike. */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Knex } from 'knex';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

interface Migration {
  up(db: Knex): Promise<void>;
  down?(db: Knex): Promise<void>;
}

function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.ts$/.test(f))
    .sort();
}

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => migrationFiles(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const mod = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, name)).href)) as Migration;
    return {
      up: mod.up,
      down: async () => {
        throw new Error(`migrations are forward-only; ${name} cannot be undone`);
      },
    };
  },
};

const CONFIG: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(CONFIG)) as [number, string[]];
  return applied;
}

/** Names of migrations not yet applied. */
export async function pendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(CONFIG)) as [unknown, { file: string }[] | string[]];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
