/** `npm run migrate`: applies pending migrations to the configured database and says what it did. */
import { ConfigError, loadConfig } from '../config.ts';
import { openStore } from '../store/db.ts';
import { migrateLatest } from '../store/migrations.ts';

try {
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const applied = await migrateLatest(store.db);
    process.stdout.write(applied.length > 0 ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await store.close();
  }
} catch (err) {
  process.stderr.write(`migrate: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  process.exitCode = 1;
}
