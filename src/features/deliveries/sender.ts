/**
 * The webhook sender as the service assembles it (src/service.ts): the outbox worker's deliveries of this service's
 * events — a profile change's fan-out expanded by the policy (events.ts), an SSF service's claims released through
 * the pipeline (caep.ts), its SETs signed with the issuer key as it is now.
 */
import type { AppDeps } from '../../deps.ts';
import { webhookSender } from '../../notify/webhooks.ts';
import { oidcIssuer } from '../../oidc/provider.ts';
import type { WebhookSender } from '../../notify/outbox.ts';
import { releaseEventClaims } from './caep.ts';
import { expandProfileEvents, isProfileChange } from './events.ts';

/** `timeoutMs`: how long one attempt may take (shorter than the outbox lease; 10 s when absent). */
export function deliveriesSender(deps: AppDeps, timeoutMs?: number): WebhookSender {
  const { config } = deps;
  return webhookSender({
    db: deps.db,
    keyring: deps.keyring,
    outbox: deps.outbox,
    logger: deps.logger,
    production: config.env === 'production' && !config.webhooksToPrivateAddresses,
    timeoutMs,
    expandJob: async (trx, job) => {
      if (!isProfileChange(job)) throw new Error(`no expander for a webhook fan-out job of type ${job.type}`);
      return expandProfileEvents(trx, deps, job);
    },
    signer: () => {
      const key = deps.issuerKeys.active[0];
      if (!key) throw new Error('no active issuer key to sign security events with');
      return { issuer: config.baseUrl, subjectIssuer: oidcIssuer(config), key };
    },
    releaseClaims: (change) => releaseEventClaims(deps, change),
  });
}
