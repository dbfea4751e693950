import type { Handler } from '../../deps.ts';
import { pageOf } from './pages.ts';
import { listShares as list } from './shares.ts';

/** The person's shares, newest first: for whom, which fields (never values), and whether each still verifies. */
export const listShares: Handler = async ({ caller, query }, deps) => {
  if (caller.kind !== 'user') throw new Error('listShares needs a user caller');
  return list(deps, caller.userId, pageOf(query));
};
