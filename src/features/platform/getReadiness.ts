import type { Handler } from '../../deps.ts';
import { ServiceUnavailable } from '../../errors.ts';
import type { Db } from '../../store/db.ts';
import { pendingMigrations } from '../../store/migrations.ts';

/**
 * Databases found with every migration applied. Migrations are forward-only and this process's set of them is
 * fixed when it starts, so once current a database stays current for this process: listing them again on every
 * probe (four catalogue queries through knex's migrator) would only make the probe slow.
 */
const current = new WeakSet<Db>();

/** Ready when the database answers and every migration has been applied. */
export const getReadiness: Handler = async (_input, { db, storeKind, logger }) => {
  let pending: string[] = [];
  try {
    await db.raw('select 1');
    if (!current.has(db)) pending = await pendingMigrations(db);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'readiness: database unreachable');
    throw new ServiceUnavailable('the database is unreachable; try again shortly');
  }
  if (pending.length > 0) {
    throw new ServiceUnavailable(`database migrations are pending (${pending.join(', ')}): run npm run migrate`);
  }
  current.add(db);
  return { database: storeKind, migrations: 'current' };
};
