/**
 * Change events (issue 16): a profile update tells every service that can read a changed field a thin
 * `profile.updated` event — the names of the fields that changed (only those it can read), the new profile version,
 * and the documents linked to it that reference them. Never a value: the service fetches the new ones with its own
 * token, and sees exactly what its role allows. Who can read is the policy engine's answer for the person's rings
 * and what the service holds: a live grant (its scopes), and documents linked to it and intended for its role
 * (each grants the scopes covering its references: the service reads it as itself, src/features/documents).
 *
 * The update's transaction (src/features/profile/profile.ts) does not write one event per service: it queues ONE
 * fan-out job — the person, the new version, the changed fields — in the outbox, so a service is told exactly when
 * the write commits and nothing is lost if the process dies, and it answers how many services will be told from
 * the subscribers counted by kind (role, scopes; kept per person, src/features/deliveries/subscribers.repo.ts) and
 * the subscribers by document, deciding once per kind. The request does a fixed number of statements and reads none
 * of the person's grants, whatever the number of services. The outbox worker then expands the job
 * (expandProfileEvents, in src/notify/webhooks.ts's transaction that ends the job): one event per service, under a
 * delivery id derived from the job and the service, so an expansion run again after a crash writes nothing twice.
 *
 * The expansion decides again, against the grants, links, endpoints and rings as they are then (a moment after the
 * commit): a service whose grant was revoked, or whose endpoint was disabled, in between is not told (it can no
 * longer read, and a revocation was told on its own); a ring changed in between is applied, so the event names only
 * fields the service can read now, which is when it will read them — never a field it cannot read. The answer's
 * `services_told` is the decision at the write; the deliveries list (GET /api/v1/profile/deliveries) shows who was
 * told in the end.
 */
import type { Knex } from 'knex';
import type { AppDeps } from '../../deps.ts';
import { readProfileSnapshot, ringsOf } from '../../disclosure/snapshot.repo.ts';
import { enqueueWebhookFanOut, type WebhookEvent } from '../../notify/webhooks.ts';
import { dataResource } from '../../oidc/provider.ts';
import { subjectOf } from '../../oidc/subjects.ts';
import { NO_USER_RINGS, type UserRings } from '../../policy/engine.ts';
import type { Queryable } from '../../store/db.ts';
import { scopesCoveringFields } from '../documents/document-basis.ts';
import { listSubscribers, readSubscriberCounts, type SubscriberBasis } from './subscribers.repo.ts';

/** The fan-out job of one update: what the worker expands into one `profile.updated` event per service. */
export interface ProfileChange {
  type: 'profile.updated';
  userId: string;
  version: number;
  /** The fields the update changed (the events name, per service, those it can read). */
  fields: string[];
  /** When the update was made: every event of it carries this timestamp. */
  timestamp: string;
}

/**
 * Which of the changed fields a subscriber may be told of, decided by the policy engine once per kind of
 * subscriber: the decision depends on the service itself only through a custom ring that names it.
 */
function decider(deps: Pick<AppDeps, 'policy'>, rings: UserRings, changed: readonly string[]) {
  const named = new Set(rings.custom.flatMap((r) => r.services));
  const decided = new Map<string, Set<string>>();
  const readable = (clientId: string, role: string, scopes: readonly string[]) => {
    const key = `${named.has(clientId) ? clientId : ''}|${role}|${scopes.join(' ')}`;
    let fields = decided.get(key);
    if (!fields) {
      const decision = deps.policy.engine.decide({ kind: 'service', clientId, role }, rings, { scopes });
      fields = new Set(decision.fields.map((f) => f.split('.')[0]));
      decided.set(key, fields);
    }
    return fields;
  };
  return {
    /** The changed fields the subscriber can read, in the order of `changed`. */
    told(clientId: string, basis: SubscriberBasis): string[] {
      const told = new Set<string>();
      if (basis.scopes) {
        const fields = readable(clientId, basis.role, basis.scopes);
        for (const f of changed) if (fields.has(f)) told.add(f);
      }
      // Through a document: its references, under the scopes covering them (as the service reads it).
      for (const d of basis.documents) {
        const fields = readable(clientId, basis.role, scopesCoveringFields(deps, d.references));
        for (const f of d.references) if (changed.includes(f) && fields.has(f)) told.add(f);
      }
      return changed.filter((f) => told.has(f));
    },
  };
}

/**
 * How many services will be told of a change of `changed` (decided now, by kind of subscriber), in `q`: a service
 * is told when it can read a changed field through its grants or through a document linked to it. Every subscriber
 * by grant is in one group of readSubscriberCounts, counted once there; a subscriber by document is counted on its
 * own only when its grants alone tell it nothing (else its group counted it). A fixed number of statements and no
 * work per grant, whatever the number of services; one statement for a person who subscribed none.
 */
export async function countServicesTold(q: Queryable, deps: AppDeps, userId: string, changed: readonly string[]): Promise<number> {
  if (changed.length === 0) return 0;
  const { groups, linked } = await readSubscriberCounts(q, { userId, changed, resource: dataResource(deps.config) });
  // Most people subscribe no service: their update reads nothing more.
  if (groups.length === 0 && linked.length === 0) return 0;
  const snapshot = await readProfileSnapshot(q, userId);
  const decide = decider(deps, snapshot ? ringsOf(snapshot) : NO_USER_RINGS, changed);
  let told = 0;
  for (const g of groups)
    if (decide.told(g.clientId ?? g.representative, { role: g.role, scopes: g.scopes, documents: [] }).length > 0) told += g.services;
  for (const s of linked) {
    const byGrants = s.scopes ? decide.told(s.clientId, { ...s, documents: [] }) : [];
    if (byGrants.length === 0 && decide.told(s.clientId, s).length > 0) told++;
  }
  return told;
}

/**
 * Queues the `profile.updated` events of one update, in its transaction, as one fan-out job; how many services will
 * be told (countServicesTold). Nothing is queued when none will be.
 */
export async function enqueueProfileEvents(
  trx: Knex.Transaction,
  deps: AppDeps,
  userId: string,
  version: number,
  changed: readonly string[],
): Promise<number> {
  const told = await countServicesTold(trx, deps, userId, changed);
  if (told === 0) return 0;
  const change: ProfileChange = { type: 'profile.updated', userId, version, fields: [...changed], timestamp: new Date().toISOString() };
  // The row names what it is, never whom: the person is inside the sealed payload.
  await enqueueWebhookFanOut(trx, deps.outbox, change, 'profile.updated');
  return told;
}

/**
 * The events of a profile change, one per service that can read a changed field now (the worker's expansion of the
 * fan-out job, in its transaction `q`).
 */
export async function expandProfileEvents(q: Knex.Transaction, deps: AppDeps, change: ProfileChange): Promise<WebhookEvent[]> {
  const snapshot = await readProfileSnapshot(q, change.userId);
  // The person's account was deleted since: nobody is told of its change.
  if (!snapshot) return [];
  const decide = decider(deps, ringsOf(snapshot), change.fields);
  const subscribers = await listSubscribers(q, { userId: change.userId, changed: change.fields, resource: dataResource(deps.config) });
  const events: WebhookEvent[] = [];
  for (const s of subscribers) {
    const fields = decide.told(s.clientId, s);
    // Never an event about a field the service cannot read.
    if (fields.length === 0) continue;
    const documents = s.documents
      .filter((d) => d.references.some((r) => fields.includes(r)))
      .map((d) => d.id)
      .sort();
    events.push({
      clientId: s.clientId,
      userId: change.userId,
      type: 'profile.updated',
      profileVersion: change.version,
      body: {
        type: 'profile.updated',
        timestamp: change.timestamp,
        subject: subjectOf(deps.keyring, s, change.userId),
        fields,
        profile_version: change.version,
        documents,
      },
    });
  }
  return events;
}

/** Whether an outbox fan-out job is a profile change (the only kind of job expanded here). */
export function isProfileChange(job: unknown): job is ProfileChange {
  return typeof job === 'object' && job !== null && (job as { type?: unknown }).type === 'profile.updated';
}
