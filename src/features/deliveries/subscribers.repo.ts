/**
 * Who a change of a person's profile may be told to (issue 16): every enabled service with a webhook URL and an
 * enabled endpoint that holds a live grant of the person, or is linked to one of the person's documents intended
 * for its role and referencing a changed field. Found in SQL, in one statement, without reading a grant or a
 * document into the process: the request counts them by what decides the answer (listSubscriberGroups), the
 * outbox worker expands them one by one after the commit (listSubscribers).
 */
import { LIVE_GRANT_SCOPES, scopeWords } from '../../oidc/grants.repo.ts';
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

/** Subscribers of the same basis: decided once. `clientId` is set for a service a custom ring names (decided alone). */
export interface SubscriberGroup extends SubscriberBasis {
  clientId: string | null;
  /** One of them, the reader the decision is asked for. */
  representative: string;
  services: number;
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

/**
 * The person's subscribers for a change of `changed`, grouped by what decides their answer — role, scopes, documents,
 * and the service itself only where a custom ring of the person admits it by name — and counted: a number of rows
 * that depends on how many kinds of subscriber there are, not on how many.
 */
export async function listSubscriberGroups(
  q: Queryable,
  { userId, changed, resource }: { userId: string; changed: readonly string[]; resource: string },
): Promise<SubscriberGroup[]> {
  // Named: prepared once per connection, so the request does not plan a statement of five joins every time.
  const rows = await statementsOf(q)<{
    role: string;
    scopes: string | null;
    documents: unknown;
    named: string | null;
    representative: string;
    services: number;
  }>(
    'rf_subscriber_groups',
    `${SUBSCRIBERS},
     named as (select distinct jsonb_array_elements_text(r.services) as client_id from rings r where r.user_id = ?::uuid)
     select role, scopes, kinds as documents, case when client_id in (select client_id from named) then client_id end as named,
            min(client_id) as representative, count(*)::int as services
       from subscribers
      group by 1, 2, 3, 4`,
    [resource, userId, userId, [...changed], userId],
  );
  return rows.map((r) => ({
    role: r.role,
    scopes: r.scopes === null ? null : scopeWords(r.scopes),
    documents: documentsOf(r.documents),
    clientId: r.named,
    representative: r.representative,
    services: r.services,
  }));
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
