import type { Handler } from '../../deps.ts';
import type { WebhookFormat } from '../../notify/webhooks.ts';
import { assertOperator } from '../services/operators.ts';
import { setWebhook } from './deliveries.ts';

/**
 * An operator sets a service's webhook URL and format: Standard Webhooks (a new signing secret, shown once) or SSF
 * (SETs signed with the issuer key); null removes the URL.
 */
export const setServiceWebhook: Handler = async ({ caller, params, body, clientIp }, deps) => {
  const operator = await assertOperator(deps, caller);
  const format = (body.format as WebhookFormat | undefined) ?? 'standard-webhooks';
  return setWebhook(deps, operator, params.client_id, (body.webhook_url as string | null) ?? null, format, clientIp);
};
