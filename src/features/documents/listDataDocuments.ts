import type { Handler } from '../../deps.ts';
import { listSharedWith } from './documents.ts';

/** A service lists the documents the person (its token's) shared with it. */
export const listDataDocuments: Handler = async ({ caller }, deps) => {
  if (caller.kind !== 'service') throw new Error('listDataDocuments needs a service caller');
  return listSharedWith(deps, caller);
};
