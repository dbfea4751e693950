import type { Handler } from '../../deps.ts';
import { recordAudit } from '../../audit/audit.ts';
import { disableService as disable } from '../../oidc/services.ts';
import { assertOperator } from './operators.ts';
import { serialize } from './createService.ts';

/** Disables a service: the provider stops knowing it and the data API refuses its tokens from now on. */
export const disableService: Handler = async ({ caller, params, clientIp }, deps) => {
  const operator = await assertOperator(deps, caller);
  const service = await disable(deps.db, params.client_id);
  await recordAudit(deps.db, {
    action: 'service.disabled',
    actor: `user:${operator}`,
    clientIp,
    data: { client_id: service.client_id },
  });
  return serialize(service);
};
