import type { Handler } from '../../deps.ts';
import { assertOperator } from '../services/operators.ts';
import { deliveriesPage } from './deliveries.ts';

/** An operator lists deliveries (`?state=failed` for those given up on), newest first. */
export const listDeliveries: Handler = async ({ caller, query }, deps) => {
  await assertOperator(deps, caller);
  return deliveriesPage(deps, { state: query.state as string | undefined, clientId: query.service_id as string | undefined }, query);
};
