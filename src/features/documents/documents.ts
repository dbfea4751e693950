/**
 * Documents by reference (seed use case 7, issue 16): a document — a lease, an insurance policy, a registration —
 * holds its own fields plus references to profile fields and the roles it is intended for. The person creates,
 * lists, shows, changes and deletes documents and links each to the services that may read it. A service reads a
 * document under the person's grant (the data API's token), or — a service that holds the document but no grant —
 * as itself, under the link alone (a client credentials token): its references resolve to the current values
 * through the disclosure pipeline, only for a role the document names and only where the policy engine releases the
 * field; otherwise the reference is withheld, visibly.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps } from '../../deps.ts';
import { openForProfile, openProfile, sealForProfile, type OpenProfile } from '../../disclosure/container.ts';
import type { Basis } from '../../disclosure/basis.ts';
import type { ProfileSnapshot } from '../../disclosure/snapshot.repo.ts';
import { DocumentLimit, DocumentNotFound, InvalidDocument, type ErrorDetail } from '../../errors.ts';
import type { ServiceCaller } from '../../oidc/resource.ts';
import { subjectOf } from '../../oidc/subjects.ts';
import { findProfileByUser, readFields } from '../../profiles/profile.repo.ts';
import { withTransaction, type Queryable } from '../../store/db.ts';
import {
  countDocuments,
  deleteDocumentRow,
  findOwnDocument,
  findLinkedDocument,
  findSharedDocument,
  insertDocument,
  linksOf,
  listOwnDocuments,
  listSharedDocuments,
  replaceLinks,
  updateDocumentRow,
  type DocumentRow,
} from './documents.repo.ts';
import { scopesCoveringFields } from './document-basis.ts';

/** How many documents one person may keep. */
export const MAX_DOCUMENTS = 200;

export interface DocumentInput {
  kind: string;
  title: string;
  fields: Record<string, unknown>;
  references: string[];
  roles: string[];
  services: string[];
}

/** What a document's own fields are sealed bound to. */
export const ownAad = (documentId: string) => `documents:${documentId}`;

async function ownerProfile(deps: AppDeps, q: Queryable, userId: string): Promise<OpenProfile> {
  return openProfile(deps.keyring, (await findProfileByUser(q, userId))!);
}

/** Checks references against the catalogue, roles against policies/roles and services against the registry. */
async function checkInput(deps: AppDeps, q: Queryable, input: DocumentInput): Promise<void> {
  const details: ErrorDetail[] = [];
  const { catalogue, roles } = deps.policy.policies;
  for (const [i, field] of input.references.entries()) {
    if (!catalogue.fields.has(field))
      details.push({ path: `references.${i}`, message: `"${field}" is not a profile field (GET /api/v1/profile lists them)` });
  }
  for (const [i, role] of input.roles.entries()) {
    if (!roles.has(role)) details.push({ path: `roles.${i}`, message: `"${role}" is not a role: one of ${[...roles.keys()].sort().join(', ')}` });
  }
  if (input.services.length > 0) {
    const known = new Set((await q('services').whereIn('client_id', input.services).whereNull('disabled_at').pluck('client_id')) as string[]);
    for (const [i, s] of input.services.entries()) {
      if (!known.has(s)) details.push({ path: `services.${i}`, message: `no enabled service with client_id ${s}` });
    }
  }
  if (details.length > 0) {
    throw new InvalidDocument(`the document is invalid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, { details });
  }
}

const unique = (xs: readonly string[]) => [...new Set(xs)];

function normalized(input: DocumentInput): DocumentInput {
  return { ...input, title: input.title.trim(), references: unique(input.references), roles: unique(input.roles), services: unique(input.services) };
}

/** The owner's view: own fields, references with the owner's current values, roles and linked services. */
async function ownerView(deps: AppDeps, q: Queryable, profile: OpenProfile, row: DocumentRow, services: string[]) {
  const current = await readFields(q, profile, row.references);
  return {
    document_id: row.id,
    kind: row.kind,
    title: row.title,
    fields: JSON.parse(openForProfile(profile, row.own_fields, ownAad(row.id)).toString('utf8')) as Record<string, unknown>,
    references: Object.fromEntries(row.references.map((f) => [f, { value: current.get(f)?.value ?? null }])),
    roles: row.roles,
    services,
    version: row.version,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export async function createDocument(deps: AppDeps, userId: string, raw: DocumentInput, clientIp: string) {
  const input = normalized(raw);
  return withTransaction(deps.db, async (trx) => {
    await checkInput(deps, trx, input);
    if ((await countDocuments(trx, userId)) >= MAX_DOCUMENTS) {
      throw new DocumentLimit(`you have ${MAX_DOCUMENTS} documents, the most one person may keep: delete one first`);
    }
    const profile = await ownerProfile(deps, trx, userId);
    const id = randomUUID();
    const row = await insertDocument(trx, {
      id,
      user_id: userId,
      kind: input.kind,
      title: input.title,
      own_fields: sealForProfile(profile, JSON.stringify(input.fields), ownAad(id)),
      references: input.references,
      roles: input.roles,
    });
    await replaceLinks(trx, id, input.services);
    await recordAudit(trx, {
      action: 'document.created',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { document_id: id, references: input.references, roles: input.roles, services: input.services },
    });
    return ownerView(deps, trx, profile, row, [...input.services].sort());
  });
}

export async function listDocuments(deps: AppDeps, userId: string, after: string | undefined, limit: number) {
  const rows = await listOwnDocuments(deps.db, userId, after, limit + 1);
  const page = rows.slice(0, limit);
  const profile = await ownerProfile(deps, deps.db, userId);
  const links = await linksOf(
    deps.db,
    page.map((r) => r.id),
  );
  const documents = [];
  for (const row of page) documents.push(await ownerView(deps, deps.db, profile, row, links.get(row.id) ?? []));
  return { documents, next: rows.length > limit ? page[page.length - 1].id : undefined };
}

const notFound = () => new DocumentNotFound('you have no document with this id');

export async function getDocument(deps: AppDeps, userId: string, documentId: string) {
  const row = await findOwnDocument(deps.db, userId, documentId);
  if (!row) throw notFound();
  const links = await linksOf(deps.db, [row.id]);
  return ownerView(deps, deps.db, await ownerProfile(deps, deps.db, userId), row, links.get(row.id) ?? []);
}

export async function updateDocument(deps: AppDeps, userId: string, documentId: string, raw: DocumentInput, clientIp: string) {
  const input = normalized(raw);
  return withTransaction(deps.db, async (trx) => {
    if (!(await findOwnDocument(trx, userId, documentId, true))) throw notFound();
    await checkInput(deps, trx, input);
    const profile = await ownerProfile(deps, trx, userId);
    // Links first (their row locks before the audit chain's), then the row, then the record.
    await replaceLinks(trx, documentId, input.services);
    const row = await updateDocumentRow(trx, documentId, {
      kind: input.kind,
      title: input.title,
      own_fields: sealForProfile(profile, JSON.stringify(input.fields), ownAad(documentId)),
      references: input.references,
      roles: input.roles,
    });
    await recordAudit(trx, {
      action: 'document.updated',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { document_id: documentId, version: row.version, references: input.references, roles: input.roles, services: input.services },
    });
    return ownerView(deps, trx, profile, row, [...input.services].sort());
  });
}

export async function deleteDocument(deps: AppDeps, userId: string, documentId: string, clientIp: string) {
  await withTransaction(deps.db, async (trx) => {
    if (!(await findOwnDocument(trx, userId, documentId, true))) throw notFound();
    await replaceLinks(trx, documentId, []);
    await deleteDocumentRow(trx, documentId);
    await recordAudit(trx, {
      action: 'document.deleted',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { document_id: documentId },
    });
  });
  return { document_id: documentId };
}

type PersonCaller = ServiceCaller & { accountId: string; grantId: string };

function personCaller(caller: ServiceCaller): PersonCaller {
  if (!caller.accountId || !caller.grantId) throw new Error('a document read needs a service caller under a grant');
  return caller as PersonCaller;
}

/** The documents the person shared with the calling service: what each is, never its values. */
export async function listSharedWith(deps: AppDeps, service: ServiceCaller) {
  const caller = personCaller(service);
  const rows = await listSharedDocuments(deps.db, caller.accountId, caller.clientId);
  return {
    subject: subjectOf(deps.keyring, caller, caller.accountId),
    documents: rows.map((r) => ({
      document_id: r.id,
      kind: r.kind,
      title: r.title,
      references: r.references,
      intended_for_you: r.roles.includes(caller.role),
      version: r.version,
      updated_at: new Date(r.updated_at).toISOString(),
    })),
  };
}

/**
 * A service reads a document shared with it: its own fields and each reference resolved now — released through the
 * disclosure pipeline (admitted and recorded before the answer), or withheld with the reason: the document is not
 * intended for the service's role, or the policy does not release that field to it. With a token under the person's
 * grant, the release is under the link and that grant (the grant's scopes); with the service's own token (client
 * credentials), under the link alone, which grants the scopes covering the document's references — how a service
 * holding a document but no grant, told of a change to it, reads the new values.
 */
export async function readShared(deps: AppDeps, service: ServiceCaller, documentId: string, snapshot: ProfileSnapshot | undefined, clientIp: string) {
  const underGrant = Boolean(service.accountId && service.grantId);
  const row = underGrant
    ? await findSharedDocument(deps.db, service.accountId!, service.clientId, documentId)
    : await findLinkedDocument(deps.db, service.clientId, documentId);
  if (!row)
    throw new DocumentNotFound(
      underGrant ? 'no document with this id is shared with you by this person' : 'no document with this id is shared with you',
    );
  const person = row.user_id;
  const basis: Basis = underGrant
    ? { kind: 'document', documentId: row.id, linkId: row.link_id, grantId: service.grantId!, clientId: service.clientId, scopes: service.scopes }
    : {
        kind: 'document_link',
        documentId: row.id,
        linkId: row.link_id,
        clientId: service.clientId,
        scopes: scopesCoveringFields(deps, row.references),
      };
  const intended = row.roles.includes(service.role);
  const profile = await ownerProfile(deps, deps.db, person);
  const own = JSON.parse(openForProfile(profile, row.own_fields, ownAad(row.id)).toString('utf8')) as Record<string, unknown>;
  const released = await deps.disclosure.release({
    reader: { kind: 'service', clientId: service.clientId, role: service.role },
    subject: person,
    basis,
    // A role the document does not name is released none of its references.
    fields: intended ? row.references : [],
    snapshot,
    clientIp,
    via: 'document',
    // The document's own fields go out with its references, on the same record.
    companions: async () => Object.fromEntries(Object.entries(own).map(([k, v]) => [`document.${k}`, v])),
  });
  const references: Record<string, unknown> = {};
  for (const field of row.references) {
    if (!intended) references[field] = { withheld: `not intended for role ${service.role}` };
    else if (field in released.values) references[field] = { value: released.values[field] };
    else references[field] = { withheld: `not released to role ${service.role} by policy or by the scopes granted` };
  }
  return {
    document_id: row.id,
    subject: subjectOf(deps.keyring, service, person),
    kind: row.kind,
    title: row.title,
    fields: own,
    references,
    version: row.version,
    updated_at: new Date(row.updated_at).toISOString(),
    policy_revision: released.policyRevision,
  };
}
