/**
 * Change events (issue 16): a profile update tells every service that can read a changed field — one with a live
 * grant whose role, rings and scopes let the policy engine release it — with a thin `profile.updated` event: the
 * names of the fields that changed (only those it can read), the new profile version, and the documents shared
 * with it that reference them. Never a value: the service fetches the new ones with its own token, and sees
 * exactly what its role allows. Written in the transaction of the update (src/features/profile/profile.ts), in a
 * fixed number of statements whatever the number of services; delivery is the outbox's, after the answer.
 */
import type { Knex } from 'knex';
import type { AppDeps } from '../../deps.ts';
import { readProfileSnapshot, ringsOf } from '../../disclosure/snapshot.repo.ts';
import { enqueueWebhookEvents, type WebhookEvent } from '../../notify/webhooks.ts';
import { liveGrantsToSubscribers, scopesOf } from '../../oidc/grants.repo.ts';
import { dataResource } from '../../oidc/provider.ts';
import { subjectOf } from '../../oidc/subjects.ts';
import { NO_USER_RINGS } from '../../policy/engine.ts';
import { linkedDocuments } from '../documents/documents.repo.ts';

/** Queues the `profile.updated` events of one update; how many services will be told. */
export async function enqueueProfileEvents(
  trx: Knex.Transaction,
  deps: AppDeps,
  userId: string,
  version: number,
  changed: readonly string[],
): Promise<number> {
  if (changed.length === 0) return 0;
  const subscribers = new Map<string, { role: string; subjectType: string; scopes: Set<string> }>();
  for (const { grant, role, subjectType } of await liveGrantsToSubscribers(trx, userId)) {
    const entry = subscribers.get(grant.clientId) ?? { role, subjectType, scopes: new Set<string>() };
    for (const s of scopesOf(grant, dataResource(deps.config))) entry.scopes.add(s);
    subscribers.set(grant.clientId, entry);
  }
  if (subscribers.size === 0) return 0;
  const snapshot = await readProfileSnapshot(trx, userId);
  const rings = snapshot ? ringsOf(snapshot) : NO_USER_RINGS;
  // The decision depends on the service itself only through a custom ring that names services; otherwise every
  // service of one role granted the same scopes reads the same fields, and is decided once.
  const perService = rings.custom.some((r) => r.services.length > 0);
  const decided = new Map<string, Set<string>>();
  const readableBy = (clientId: string, role: string, scopes: string[]) => {
    const key = `${perService ? clientId : ''}|${role}|${scopes.join(' ')}`;
    let readable = decided.get(key);
    if (!readable) {
      const decision = deps.policy.engine.decide({ kind: 'service', clientId, role }, rings, { scopes });
      readable = new Set(decision.fields.map((f) => f.split('.')[0]));
      decided.set(key, readable);
    }
    return readable;
  };
  const documents = await linkedDocuments(trx, userId, [...subscribers.keys()]);
  const timestamp = new Date().toISOString();
  const events: WebhookEvent[] = [];
  for (const [clientId, s] of subscribers) {
    const readable = readableBy(clientId, s.role, [...s.scopes].sort());
    // Never an event about a field the service cannot read.
    const fields = changed.filter((f) => readable.has(f));
    if (fields.length === 0) continue;
    const docs = documents
      .filter((d) => d.client_id === clientId && d.roles.includes(s.role) && d.references.some((r) => fields.includes(r)))
      .map((d) => d.document_id)
      .sort();
    events.push({
      clientId,
      userId,
      type: 'profile.updated',
      profileVersion: version,
      body: {
        type: 'profile.updated',
        timestamp,
        subject: subjectOf(deps.keyring, { clientId, subjectType: s.subjectType }, userId),
        fields,
        profile_version: version,
        documents: docs,
      },
    });
  }
  await enqueueWebhookEvents(trx, deps.outbox, events);
  return events.length;
}
