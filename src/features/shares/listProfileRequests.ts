import type { Handler } from '../../deps.ts';
import { pageOf } from './pages.ts';
import { listRequests } from './requests.ts';

/** The requests services made of the person, newest first. */
export const listProfileRequests: Handler = async ({ caller, query }, deps) => {
  if (caller.kind !== 'user') throw new Error('listProfileRequests needs a user caller');
  return listRequests(deps, caller.userId, pageOf(query));
};
