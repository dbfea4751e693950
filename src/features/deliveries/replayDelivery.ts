import type { Handler } from '../../deps.ts';
import { assertOperator } from '../services/operators.ts';
import { replay } from './deliveries.ts';

/** An operator replays a failed delivery: the same event, the same `webhook-id`, a fresh run of attempts. */
export const replayDelivery: Handler = async ({ caller, params, clientIp }, deps) => {
  const operator = await assertOperator(deps, caller);
  return replay(deps, operator, params.delivery_id, clientIp);
};
