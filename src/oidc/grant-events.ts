/**
 * Revocation told (seed API 8, step 5): when a person revokes a service, narrows its consent, or an operator
 * disables it, the service is sent a signed `grant.revoked` webhook (src/notify/webhooks.ts), written in the
 * transaction that removes the grant — besides the back-channel logout (src/oidc/backchannel.ts).
 */
import type { Keyring } from '../crypto/envelope.ts';
import type { Outbox } from '../notify/outbox.ts';
import { enqueueWebhookEvents, reachableEndpoints, type WebhookEvent } from '../notify/webhooks.ts';
import type { Queryable } from '../store/db.ts';
import { accountsGrantingService } from './grants.repo.ts';
import { subjectOf } from './subjects.ts';

type RevocationReason = 'revoked' | 'narrowed' | 'service_disabled';

export interface GrantRevoked {
  userId: string;
  clientId: string;
  reason: RevocationReason;
  /** For a narrowed consent, the scopes taken away. */
  scopes?: readonly string[];
}

/** Queues `grant.revoked` for each revocation whose service has a webhook endpoint; the client ids told. */
export async function enqueueGrantRevoked(
  q: Queryable,
  deps: { keyring: Keyring; outbox: Outbox },
  revocations: readonly GrantRevoked[],
): Promise<Set<string>> {
  const clients = [...new Set(revocations.map((r) => r.clientId))];
  const reachable = await reachableEndpoints(q, clients);
  if (reachable.size === 0) return reachable;
  const types = new Map(
    (
      (await q('services')
        .whereIn('client_id', [...reachable])
        .select('client_id', 'subject_type')) as { client_id: string; subject_type: string }[]
    ).map((r) => [r.client_id, r.subject_type]),
  );
  const timestamp = new Date().toISOString();
  const events: WebhookEvent[] = revocations
    .filter((r) => reachable.has(r.clientId))
    .map((r) => ({
      clientId: r.clientId,
      userId: r.userId,
      type: 'grant.revoked',
      body: {
        type: 'grant.revoked',
        timestamp,
        subject: subjectOf(deps.keyring, { clientId: r.clientId, subjectType: types.get(r.clientId) ?? 'pairwise' }, r.userId),
        reason: r.reason,
        ...(r.scopes ? { scopes: [...r.scopes] } : {}),
      },
    }));
  await enqueueWebhookEvents(q, deps.outbox, events);
  return reachable;
}

/** A service disabled: every person who had granted it is a `grant.revoked` (reason `service_disabled`) owed to it. */
export async function enqueueServiceDisabled(q: Queryable, deps: { keyring: Keyring; outbox: Outbox }, clientId: string): Promise<number> {
  const people = await accountsGrantingService(q, clientId);
  const told = await enqueueGrantRevoked(
    q,
    deps,
    people.map((userId) => ({ userId, clientId, reason: 'service_disabled' as const })),
  );
  return told.has(clientId) ? people.length : 0;
}
