/**
 * Who a change of a person's profile may be told to (issue 16): every enabled service with a webhook URL and an
 * enabled endpoint that holds a live grant of the person, or is linked to one of the person's documents intended
 * for its role and referencing a changed field. Found in SQL without reading a grant or a document into the
 * process: the request counts them (readSubscriberCounts) — the subscribers by grant grouped by what decides the
 * answer and kept per person (subscriber_groups, migration 033) so that it reads none of the person's grants, the
 * subscribers by document live — and the outbox worker expands them one by one after the commit (listSubscribers).
 *
 * The stored groups are current while three generations match those they were computed at: the person's grants'
 * (counted by every write of a grant, in its statement or transaction: src/oidc/adapter.ts, grants.repo.ts), the
 * registry's (services and webhook endpoints, counted by triggers, migration 033) and the person's rings version
 * (src/features/rings, bumped by every change of the rings: a custom ring naming a service decides it alone); and
 * while no grant they counted has expired (`valid_until`). The documents are not in them: which documents
 * reference a changed field depends on the change, so the subscribers by document are read live, through the
 * person's documents and links and the grants of the services linked only.
 */
import { LIVE_GRANT_SCOPES, liveGrantScopesOf, scopeWords } from '../../oidc/grants.repo.ts';
import { statementsOf, type Queryable } from '../../store/db.ts';
import { LINKS_REFERENCING } from '../documents/documents.repo.ts';

/** A document a subscriber is linked to, intended for its role: its id and every profile field it references. */
interface SubscribedDocument {
  id: string;
  references: string[];
}

/** What decides which changed fields a subscriber may be told of: its role, its grant's scopes, its documents. */
export interface SubscriberBasis {
  role: string;
  /** The scopes of its live grants (OpenID and the data API's together), sorted; null without a grant. */
  scopes: string[] | null;
  /** The references of each document linked to it and intended for its role (one that references a changed field). */
  documents: Pick<SubscribedDocument, 'references'>[];
}

export interface Subscriber extends SubscriberBasis {
  clientId: string;
  subjectType: string;
  documents: SubscribedDocument[];
}

/**
 * Services of the person's live grants that decide alike, counted: their role, their grants' scopes, and the
 * service itself where a custom ring of the person names it (`clientId`; decided alone). Documents play no part.
 */
interface SubscriberGroup {
  role: string;
  scopes: string[];
  clientId: string | null;
  /** One of them, the reader the decision is asked for. */
  representative: string;
  services: number;
}

/** A service linked to one of the person's documents that references a changed field and is intended for its role. */
interface LinkedSubscriber extends SubscriberBasis {
  clientId: string;
}

/** Who a change may be told to, as the request counts them (readSubscriberCounts). */
export interface SubscriberCounts {
  /** Every subscriber with a live grant, grouped; a service linked to a document is counted here too if it has one. */
  groups: SubscriberGroup[];
  /** Every subscriber linked to a document covering a changed field, one by one, with its grants' scopes. */
  linked: LinkedSubscriber[];
  /** Whether the groups were the stored ones (false: computed by this call, and stored). */
  cached: boolean;
}

/**
 * The statement's subscribers, one row per service (`scopes` the text of LIVE_GRANT_SCOPES, null without a grant;
 * `documents` null without one, and `kinds` their references alone, what decides); its bindings: the data resource,
 * the person's user id (for the grants), the person's user id and the changed fields (for the documents). The
 * grants' payloads are read in SQL, as text: no grant comes into the process.
 */
const SUBSCRIBERS = `with granted as materialized (${LIVE_GRANT_SCOPES}),
     linked as materialized (${LINKS_REFERENCING}),
     documented as (
       select li.client_id,
              jsonb_agg(jsonb_build_object('id', li.document_id, 'references', li.references) order by li.document_id) as documents,
              jsonb_agg(jsonb_build_object('references', li.references) order by li.references) as kinds
         from linked li
         join services s on s.client_id = li.client_id
        where li.roles @> jsonb_build_array(s.role)
        group by li.client_id
     ),
     subscribers as (
       select s.client_id, s.role, s.subject_type, gr.scopes, dl.documents, dl.kinds
         from granted gr
         full join documented dl on dl.client_id = gr.client_id
         join services s on s.client_id = coalesce(gr.client_id, dl.client_id)
         join webhook_endpoints e on e.client_id = s.client_id and e.disabled_at is null
        where s.disabled_at is null and s.webhook_url is not null
     )`;

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
const documentsOf = (v: unknown): SubscribedDocument[] =>
  (json<{ id: string; references: unknown }[] | null>(v) ?? []).map((d) => ({ id: d.id, references: json<string[] | null>(d.references) ?? [] }));

// A subscriber a webhook can be sent to: an enabled service with a webhook URL and an enabled endpoint (`s`, `e`).
const REACHABLE = `join webhook_endpoints e on e.client_id = s.client_id and e.disabled_at is null
        where s.disabled_at is null and s.webhook_url is not null`;

/**
 * The subscribers linked to a document covering a changed field (`documented`: client id, role, the documents'
 * references), then, as one JSON array, each with its grants' scopes: read through the person's documents and
 * links, and the grants of those services only (liveGrantScopesOf), never the person's other grants. Bindings: the
 * person's user id and the changed fields (the documents), then the resource and the person's user id (the grants).
 */
const DOCUMENTED = `linked as materialized (${LINKS_REFERENCING}),
     documented as (
       select li.client_id, s.role, jsonb_agg(jsonb_build_object('references', li.references) order by li.references) as kinds
         from linked li
         join services s on s.client_id = li.client_id
         ${REACHABLE} and li.roles @> jsonb_build_array(s.role)
        group by li.client_id, s.role
     )`;
const LINKED = `(select jsonb_agg(jsonb_build_object('client_id', d.client_id, 'role', d.role, 'scopes', gr.scopes, 'documents', d.kinds))
          from documented d cross join lateral (${liveGrantScopesOf('d.client_id')}) gr)`;

/**
 * The request's one statement: the linked subscribers (DOCUMENTED), and the person's stored groups read by its
 * primary key with the generations they must match — the person's grants' (subscriber_groups.generation), the
 * registry's, the rings version — `groups` null unless they all match and no grant counted has expired.
 */
const READ = `with ${DOCUMENTED}
     select r.generation as registry_generation, coalesce(c.generation, 0) as generation, coalesce(rs.version, 0) as rings_version,
            case when c.computed_generation = c.generation and c.registry_generation = r.generation
                      and c.rings_version = coalesce(rs.version, 0)
                      and (c.valid_until is null or c.valid_until > current_timestamp) then c.groups end as groups,
            ${LINKED} as linked
       from subscriber_registry r
       left join subscriber_groups c on c.user_id = ?::uuid
       left join ring_settings rs on rs.user_id = ?::uuid
      where r.id = 1`;

/**
 * The groups computed afresh from the person's grants (LIVE_GRANT_SCOPES), the registry and the person's rings, and
 * stored stamped with the generations read before (so a write committed since is seen as a change: they can only be
 * older than what was read); and the linked subscribers again, from the same snapshot as the groups. Bindings: the
 * resource and the person's user id (the grants), the person's user id (the rings), the person's user id and the
 * changed fields (the documents), the person's user id and the three generations, the resource and the person's
 * user id (the linked subscribers' grants).
 */
const STORE = `with granted as materialized (${LIVE_GRANT_SCOPES}),
     named as (select distinct jsonb_array_elements_text(r.services) as client_id from rings r where r.user_id = ?::uuid),
     grouped as (
       select s.role, gr.scopes, case when s.client_id in (select client_id from named) then s.client_id end as named,
              min(s.client_id) as representative, count(*)::int as services, min(gr.expires_at) as expires_at
         from granted gr
         join services s on s.client_id = gr.client_id
         ${REACHABLE}
        group by 1, 2, 3
     ),
     ${DOCUMENTED}
     insert into subscriber_groups as c (user_id, computed_generation, registry_generation, rings_version, valid_until, groups, computed_at)
     select ?::uuid, ?::bigint, ?::bigint, ?::bigint, (select min(expires_at) from grouped),
            coalesce((select jsonb_agg(jsonb_build_object('role', role, 'scopes', scopes, 'named', named,
                                                          'representative', representative, 'services', services))
                        from grouped), '[]'::jsonb),
            current_timestamp
     on conflict (user_id) do update
        set computed_generation = excluded.computed_generation, registry_generation = excluded.registry_generation,
            rings_version = excluded.rings_version, valid_until = excluded.valid_until, groups = excluded.groups,
            computed_at = excluded.computed_at
     returning c.groups, ${LINKED} as linked`;

interface StoredGroup {
  role: string;
  scopes: string | null;
  named: string | null;
  representative: string;
  services: number;
}

const groupsOf = (v: unknown): SubscriberGroup[] =>
  (json<StoredGroup[] | null>(v) ?? []).map((g) => ({
    role: g.role,
    scopes: scopeWords(g.scopes ?? ''),
    clientId: g.named,
    representative: g.representative,
    services: g.services,
  }));

const linkedOf = (v: unknown): LinkedSubscriber[] =>
  (json<{ client_id: string; role: string; scopes: string | null; documents: unknown }[] | null>(v) ?? []).map((l) => ({
    clientId: l.client_id,
    role: l.role,
    scopes: l.scopes === null ? null : scopeWords(l.scopes),
    documents: documentsOf(l.documents),
  }));

/**
 * The person's subscribers for a change of `changed`, as the request counts them: the subscribers by grant grouped
 * and counted, stored per person and read by one primary-key lookup while current (a number of rows that depends on
 * how many kinds of subscriber there are, read in a time that does not depend on how many), and the subscribers by
 * document one by one, read live through the person's documents. One statement when the stored groups are current;
 * two when they are not (they are computed from the grants with the registry and the rings, and stored).
 */
export async function readSubscriberCounts(
  q: Queryable,
  { userId, changed, resource }: { userId: string; changed: readonly string[]; resource: string },
): Promise<SubscriberCounts> {
  // Named: prepared once per connection, so the request does not plan statements of five joins every time.
  const run = statementsOf(q);
  const documents = [userId, [...changed]];
  const grants = [resource, userId];
  const [read] = await run<{ registry_generation: string; generation: string; rings_version: string; groups: unknown; linked: unknown }>(
    'rf_subscriber_counts',
    READ,
    [...documents, ...grants, userId, userId],
  );
  if (read.groups !== null) return { groups: groupsOf(read.groups), linked: linkedOf(read.linked), cached: true };
  const [stored] = await run<{ groups: unknown; linked: unknown }>('rf_subscriber_groups_store', STORE, [
    ...grants,
    userId,
    ...documents,
    userId,
    read.generation,
    read.registry_generation,
    read.rings_version,
    ...grants,
  ]);
  return { groups: groupsOf(stored.groups), linked: linkedOf(stored.linked), cached: false };
}

/** The person's subscribers for a change of `changed`, each with its subject type, in client id order. */
export async function listSubscribers(
  q: Queryable,
  { userId, changed, resource }: { userId: string; changed: readonly string[]; resource: string },
): Promise<Subscriber[]> {
  const { rows } = (await q.raw(
    `${SUBSCRIBERS}
     select client_id, role, subject_type, scopes, documents from subscribers order by client_id`,
    [resource, userId, userId, [...changed]],
  )) as { rows: { client_id: string; role: string; subject_type: string; scopes: string | null; documents: unknown }[] };
  return rows.map((r) => ({
    clientId: r.client_id,
    role: r.role,
    subjectType: r.subject_type,
    scopes: r.scopes === null ? null : scopeWords(r.scopes),
    documents: documentsOf(r.documents),
  }));
}
