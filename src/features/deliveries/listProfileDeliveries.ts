import type { Handler } from '../../deps.ts';
import { deliveriesPage } from './deliveries.ts';

/** The person sees which services were told of each change, and whether delivery succeeded. */
export const listProfileDeliveries: Handler = async ({ caller, query }, deps) => {
  if (caller.kind !== 'user') throw new Error('listProfileDeliveries needs a user caller');
  return deliveriesPage(deps, { userId: caller.userId }, query);
};
