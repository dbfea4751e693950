import type { Handler } from '../../deps.ts';
import { listAccess } from './access.ts';

/** Seed API 8, step 1 and 3: every service with access, and exactly what it can see now. */
export const listProfileAccess: Handler = async ({ caller }, deps) => {
  if (caller.kind !== 'user') throw new Error('listProfileAccess needs a user caller');
  return { services: await listAccess(deps, caller.userId) };
};
