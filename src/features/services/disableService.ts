import type { Handler } from '../../deps.ts';
import { recordAudit } from '../../audit/audit.ts';
import { enqueueServiceDisabled } from '../../oidc/grant-events.ts';
import { disableService as disable } from '../../oidc/services.ts';
import { withTransaction } from '../../store/db.ts';
import { assertOperator } from './operators.ts';
import { serialize } from './createService.ts';

/**
 * Disables a service: the provider stops knowing it and the data API refuses its tokens from now on; each person
 * who had granted it is a signed `grant.revoked` event owed to it (when it has a webhook endpoint), queued in the
 * same transaction.
 */
export const disableService: Handler = async ({ caller, params, clientIp }, deps) => {
  const operator = await assertOperator(deps, caller);
  return withTransaction(deps.db, async (trx) => {
    const service = await disable(trx, params.client_id);
    const told = await enqueueServiceDisabled(trx, deps, service.client_id);
    await recordAudit(trx, {
      action: 'service.disabled',
      actor: `user:${operator}`,
      clientIp,
      data: { client_id: service.client_id, revocations_told: told },
    });
    return serialize(service);
  });
};
