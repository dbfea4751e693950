/**
 * Change events (issue 16): a profile update tells every service that can read a changed field — one with a live
 * grant whose role, rings and scopes let the policy engine release it — with a thin `profile.updated` event: the
 * names of the fields that changed (only those it can read), the new profile version, and the documents shared
 * with it that reference them. Never a value: the service fetches the new ones with its own token, and sees
 * exactly what its role allows. Written in the transaction of the update (src/features/profile/profile.ts).
 */
import type { Knex } from 'knex';
import type { AppDeps } from '../../deps.ts';
import { readProfileSnapshot, ringsOf } from '../../disclosure/snapshot.repo.ts';
import { enqueueWebhookEvents, reachableEndpoints, type WebhookEvent } from '../../notify/webhooks.ts';
import { listLiveGrants, scopesOf } from '../../oidc/grants.repo.ts';
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
  const scopes = new Map<string, Set<string>>();
  for (const g of await listLiveGrants(trx, userId)) {
    const set = scopes.get(g.clientId) ?? new Set<string>();
    for (const s of scopesOf(g, dataResource(deps.config))) set.add(s);
    scopes.set(g.clientId, set);
  }
  const reachable = await reachableEndpoints(trx, [...scopes.keys()]);
  if (reachable.size === 0) return 0;
  const services = (await trx('services')
    .whereIn('client_id', [...reachable])
    .whereNull('disabled_at')
    .select('client_id', 'role', 'subject_type')) as { client_id: string; role: string; subject_type: string }[];
  const snapshot = await readProfileSnapshot(trx, userId);
  const rings = snapshot ? ringsOf(snapshot) : NO_USER_RINGS;
  const documents = await linkedDocuments(
    trx,
    userId,
    services.map((s) => s.client_id),
  );
  const timestamp = new Date().toISOString();
  const events: WebhookEvent[] = [];
  for (const s of services) {
    const decision = deps.policy.engine.decide({ kind: 'service', clientId: s.client_id, role: s.role }, rings, {
      scopes: [...scopes.get(s.client_id)!],
    });
    const readable = new Set(decision.fields.map((f) => f.split('.')[0]));
    // Never an event about a field the service cannot read.
    const fields = changed.filter((f) => readable.has(f));
    if (fields.length === 0) continue;
    const docs = documents
      .filter((d) => d.client_id === s.client_id && d.roles.includes(s.role) && d.references.some((r) => fields.includes(r)))
      .map((d) => d.document_id)
      .sort();
    events.push({
      clientId: s.client_id,
      userId,
      type: 'profile.updated',
      profileVersion: version,
      body: {
        type: 'profile.updated',
        timestamp,
        subject: subjectOf(deps.keyring, { clientId: s.client_id, subjectType: s.subject_type }, userId),
        fields,
        profile_version: version,
        documents: docs,
      },
    });
  }
  await enqueueWebhookEvents(trx, deps.outbox, events);
  return events.length;
}
