import type { Handler } from '../../deps.ts';
import { recordAudit } from '../../audit/audit.ts';
import { enqueueServiceDisabled } from '../../oidc/grant-events.ts';
import { disableService as disable, findService } from '../../oidc/services.ts';
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
    const wasEnabled = !(await findService(trx, params.client_id))?.disabled_at;
    const service = await disable(trx, params.client_id);
    // Told once, when it is disabled: disabling it again tells nobody anything new.
    const told = wasEnabled ? await enqueueServiceDisabled(trx, deps, service.client_id) : 0;
    await recordAudit(trx, {
      action: 'service.disabled',
      actor: `user:${operator}`,
      clientIp,
      data: { client_id: service.client_id, revocations_told: told },
    });
    return serialize(service);
  });
};
