import type { Handler } from '../../http/types.ts';
import { ServiceUnavailable } from '../../errors.ts';
import { pendingMigrations } from '../../store/migrations.ts';

/** Ready when the database answers and every migration has been applied. */
export const getReadiness: Handler = async (_input, { db, storeKind, logger }) => {
  let pending: string[];
  try {
    await db.raw('select 1');
    pending = await pendingMigrations(db);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'readiness: database unreachable');
    throw new ServiceUnavailable('the database is unreachable; try again shortly');
  }
  if (pending.length > 0) {
    throw new ServiceUnavailable(`database migrations are pending (${pending.join(', ')}): run npm run migrate`);
  }
  return { database: storeKind, migrations: 'current' };
};
