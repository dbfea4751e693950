/**
 * Documents and their links to services. A document's own fields are sealed under the profile's data key; its
 * references name profile fields and are resolved only when it is read (src/features/documents/documents.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Queryable } from '../../store/db.ts';

export interface DocumentRow {
  id: string;
  user_id: string;
  kind: string;
  title: string;
  own_fields: Uint8Array;
  references: string[];
  roles: string[];
  version: number;
  created_at: Date;
  updated_at: Date;
}

const list = (v: unknown): string[] => (typeof v === 'string' ? (JSON.parse(v) as string[]) : ((v as string[] | null) ?? []));
const toRow = (r: DocumentRow): DocumentRow => ({ ...r, references: list(r.references), roles: list(r.roles) });

export async function countDocuments(q: Queryable, userId: string): Promise<number> {
  const row = (await q('documents').where({ user_id: userId }).count({ n: '*' }).first()) as { n: string | number };
  return Number(row.n);
}

export async function insertDocument(
  q: Queryable,
  doc: Pick<DocumentRow, 'id' | 'user_id' | 'kind' | 'title' | 'own_fields' | 'references' | 'roles'> &
    Partial<Pick<DocumentRow, 'created_at' | 'updated_at'>>,
): Promise<DocumentRow> {
  const [row] = (await q('documents')
    .insert({ ...doc, references: JSON.stringify(doc.references), roles: JSON.stringify(doc.roles) })
    .returning('*')) as DocumentRow[];
  return toRow(row);
}

export async function updateDocumentRow(
  q: Queryable,
  id: string,
  doc: Pick<DocumentRow, 'kind' | 'title' | 'own_fields' | 'references' | 'roles'>,
): Promise<DocumentRow> {
  const [row] = (await q('documents')
    .where({ id })
    .update({
      ...doc,
      references: JSON.stringify(doc.references),
      roles: JSON.stringify(doc.roles),
      version: q.raw('version + 1'),
      updated_at: q.fn.now(),
    })
    .returning('*')) as DocumentRow[];
  return toRow(row);
}

/** The person's document, locked for update when in a transaction that changes it. */
export async function findOwnDocument(q: Queryable, userId: string, id: string, lock = false): Promise<DocumentRow | undefined> {
  const builder = q('documents').where({ id, user_id: userId }).first();
  if (lock) builder.forUpdate();
  const row = (await builder) as DocumentRow | undefined;
  return row ? toRow(row) : undefined;
}

export async function listOwnDocuments(q: Queryable, userId: string, after: string | undefined, limit: number): Promise<DocumentRow[]> {
  const builder = q('documents').where({ user_id: userId }).orderBy('id').limit(limit);
  if (after) builder.where('id', '>', after);
  return ((await builder) as DocumentRow[]).map(toRow);
}

export async function deleteDocumentRow(q: Queryable, id: string): Promise<void> {
  await q('documents').where({ id }).delete();
}

/** The services each document is linked to. */
export async function linksOf(q: Queryable, documentIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(documentIds.map((id) => [id, []]));
  if (documentIds.length === 0) return out;
  const rows = (await q('document_links').whereIn('document_id', documentIds).orderBy('client_id').select('document_id', 'client_id')) as {
    document_id: string;
    client_id: string;
  }[];
  for (const r of rows) out.get(r.document_id)?.push(r.client_id);
  return out;
}

/**
 * Makes the document's links exactly `clientIds`: removed links are locked and deleted first (a release under one
 * holds it FOR KEY SHARE until on record), before the caller records the change.
 */
export async function replaceLinks(trx: Knex.Transaction, documentId: string, clientIds: readonly string[]): Promise<void> {
  const gone = (await trx('document_links')
    .where({ document_id: documentId })
    .whereNotIn('client_id', clientIds)
    .orderBy('id')
    .forUpdate()
    .pluck('id')) as string[];
  if (gone.length > 0) await trx('document_links').whereIn('id', gone).delete();
  if (clientIds.length > 0) {
    await trx('document_links')
      .insert(clientIds.map((client_id) => ({ id: randomUUID(), document_id: documentId, client_id })))
      .onConflict(['document_id', 'client_id'])
      .ignore();
  }
}

/** A document of the person shared with the service, with the link that shares it. */
export async function findSharedDocument(
  q: Queryable,
  userId: string,
  clientId: string,
  documentId: string,
): Promise<(DocumentRow & { link_id: string }) | undefined> {
  const row = (await q('documents as d')
    .join('document_links as l', 'l.document_id', 'd.id')
    .where({ 'd.id': documentId, 'd.user_id': userId, 'l.client_id': clientId })
    .first('d.*', 'l.id as link_id')) as (DocumentRow & { link_id: string }) | undefined;
  return row ? { ...toRow(row), link_id: row.link_id } : undefined;
}

/** The person's documents shared with the service. */
export async function listSharedDocuments(q: Queryable, userId: string, clientId: string): Promise<DocumentRow[]> {
  return (
    (await q('documents as d')
      .join('document_links as l', 'l.document_id', 'd.id')
      .where({ 'd.user_id': userId, 'l.client_id': clientId })
      .orderBy('d.id')
      .limit(1000)
      .select('d.*')) as DocumentRow[]
  ).map(toRow);
}

/**
 * The person's documents, with each service they are linked to, that reference any of the changed fields: who a
 * change may be told to through a document (src/features/deliveries). A fragment for a `with` clause, one row per
 * link (`client_id`, `document_id`, `roles`, `references`); it takes the person's user id, then the changed fields.
 */
export const LINKS_REFERENCING = `select l.client_id, d.id as document_id, d.roles, d.references
         from documents d
         join document_links l on l.document_id = d.id
        where d.user_id = ?::uuid
          and exists (select 1 from jsonb_array_elements_text(d.references) as r(field) where r.field = any(?::text[]))`;

/** A link of one of the person's documents to a service: what the access overview lists besides grants. */
export interface PersonLink {
  client_id: string;
  document_id: string;
  references: string[];
  roles: string[];
  linked_at: Date;
}

/** Every link of the person's documents to a service, oldest first. */
export async function linksOfPerson(q: Queryable, userId: string): Promise<PersonLink[]> {
  const rows = (await q('documents as d')
    .join('document_links as l', 'l.document_id', 'd.id')
    .where('d.user_id', userId)
    .orderBy([{ column: 'l.created_at' }, { column: 'l.id' }])
    .select('l.client_id', 'd.id as document_id', 'd.references', 'd.roles', 'l.created_at as linked_at')) as (Omit<
    PersonLink,
    'references' | 'roles'
  > & {
    references: unknown;
    roles: unknown;
  })[];
  const list = (v: unknown): string[] => (typeof v === 'string' ? JSON.parse(v) : (v as string[] | null)) ?? [];
  return rows.map((r) => ({ ...r, references: list(r.references), roles: list(r.roles) }));
}

/** A document linked to the service, whoever's it is, with the link that shares it: a read by the service as itself. */
export async function findLinkedDocument(
  q: Queryable,
  clientId: string,
  documentId: string,
): Promise<(DocumentRow & { link_id: string }) | undefined> {
  const row = (await q('documents as d')
    .join('document_links as l', 'l.document_id', 'd.id')
    .where({ 'd.id': documentId, 'l.client_id': clientId })
    .first('d.*', 'l.id as link_id')) as (DocumentRow & { link_id: string }) | undefined;
  return row ? { ...toRow(row), link_id: row.link_id } : undefined;
}

/**
 * Removes every link of the person's documents to the service (a revocation of its access), locked in id order and
 * deleted before the caller records it, as replaceLinks does; the ids of the documents it was linked to.
 */
export async function unlinkService(trx: Knex.Transaction, userId: string, clientId: string): Promise<string[]> {
  const links = (await trx('document_links as l')
    .join('documents as d', 'd.id', 'l.document_id')
    .where({ 'd.user_id': userId, 'l.client_id': clientId })
    .orderBy('l.id')
    .forUpdate('l')
    .select('l.id', 'l.document_id')) as { id: string; document_id: string }[];
  if (links.length > 0)
    await trx('document_links')
      .whereIn(
        'id',
        links.map((l) => l.id),
      )
      .delete();
  return links.map((l) => l.document_id).sort();
}

/**
 * The liveness check of a release under a document link alone (src/disclosure/basis.ts, liveIds): a basis id is the
 * link's id, live while the link still shares the document with an enabled service; the link row is locked FOR KEY
 * SHARE, so an unlink (or a revocation of the service's access, which unlinks) either committed before the
 * admission or waits until the release is on record.
 */
export const LIVE_DOCUMENT_LINKS_LOCKED = `select l.id::text as id from document_links l
          join services s on s.client_id = l.client_id and s.disabled_at is null
         where l.id::text = any(?::text[])
         order by l.id for key share of l`;

/**
 * The liveness check of a release under a document (src/disclosure/basis.ts, liveIds). A basis id is
 * `<link id>:<grant id>`: live while the link still shares the document with the service and the person's grant to
 * that service still holds; both rows are locked FOR KEY SHARE (the weakest lock their DELETE waits for), so an
 * unlink or a revocation either committed before the admission or waits until the release is on record.
 */
export const LIVE_DOCUMENT_READS_LOCKED = `select k.id from unnest(?::text[]) as k(id)
          join document_links l on l.id::text = split_part(k.id, ':', 1)
          join documents d on d.id = l.document_id
          join oidc_payloads g on g.kind = 'Grant' and g.id = split_part(k.id, ':', 2) and g.client_id = l.client_id
                              and g.account_id = d.user_id::text and (g.expires_at is null or g.expires_at > current_timestamp)
         order by k.id for key share of l, g`;
