import type { Handler } from '../../deps.ts';
import { assertOperator } from '../services/operators.ts';
import { setWebhook } from './deliveries.ts';

/** An operator sets a service's webhook URL: a new signing secret, shown once; null removes the URL. */
export const setServiceWebhook: Handler = async ({ caller, params, body, clientIp }, deps) => {
  const operator = await assertOperator(deps, caller);
  return setWebhook(deps, operator, params.client_id, (body.webhook_url as string | null) ?? null, clientIp);
};
