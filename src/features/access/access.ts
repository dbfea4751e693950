/**
 * Who can see what (seed API 8): the services a person granted, what each can see now, and revocation — removal
 * of the grant and of every token issued under it, effective on the very next request.
 */
import type { AppDeps } from '../../deps.ts';
import { GrantNotFound } from '../../errors.ts';
import { recordAudit } from '../../audit/audit.ts';
import { withTransaction } from '../../store/db.ts';
import { listLiveGrants, revokeGrants, scopesOf, type RevokedCounts } from '../../oidc/grants.repo.ts';
import { dataResource } from '../../oidc/provider.ts';
import { findService } from '../../oidc/services.ts';
import { enqueueGrantRevoked } from '../../oidc/grant-events.ts';
import { lastReleaseAt } from './access.repo.ts';
import { revokeSharesOfService } from '../shares/shares.repo.ts';
import { linksOfPerson, unlinkService } from '../documents/documents.repo.ts';
import { scopesCoveringFields } from '../documents/document-basis.ts';

export interface AccessEntry {
  service_id: string;
  name: string;
  role: string;
  scopes: string[];
  fields: string[];
  /** The person's documents linked to the service: each a basis it can read under, grant or no grant. */
  documents: string[];
  granted_at: string;
  last_used_at: string | null;
}

/**
 * Every service that can read something of the person now: each with a live grant, and each linked to one of
 * their documents (a basis of its own, src/features/documents) — what it can see now (the engine's answer: under
 * its grant's scopes, and through each document intended for its role, the references the engine allows it), when
 * it was granted or first linked, and when it last had data released. Revoking it (revokeAccess) ends both.
 */
export async function listAccess(deps: AppDeps, userId: string): Promise<AccessEntry[]> {
  const byClient = new Map<string, { scopes: Set<string>; grantedAt: number; documents: Set<string>; references: Set<string> }>();
  const entryOf = (clientId: string, at: number) => {
    let entry = byClient.get(clientId);
    if (!entry) {
      entry = { scopes: new Set<string>(), grantedAt: at, documents: new Set<string>(), references: new Set<string>() };
      byClient.set(clientId, entry);
    }
    return entry;
  };
  for (const g of await listLiveGrants(deps.db, userId)) {
    const entry = entryOf(g.clientId, g.issuedAt);
    // What the service can use at the data API: the OpenID scopes and the data resource's.
    for (const s of scopesOf(g, dataResource(deps.config))) entry.scopes.add(s);
    entry.grantedAt = Math.max(entry.grantedAt, g.issuedAt);
  }
  const links = await linksOfPerson(deps.db, userId);
  for (const link of links) {
    const entry = entryOf(link.client_id, Math.floor(link.linked_at.getTime() / 1000));
    entry.documents.add(link.document_id);
  }
  const entries: AccessEntry[] = [];
  for (const [clientId, { scopes, grantedAt, documents }] of byClient) {
    const service = await findService(deps.db, clientId);
    if (!service) continue;
    const scopeList = [...scopes].sort();
    const fields = new Set<string>();
    if (scopeList.length > 0) {
      for (const p of await deps.oidc.previewConsent(userId, clientId, scopeList)) for (const f of p.fields) fields.add(f.field);
    }
    // Through a document: only one intended for its role, and of its references only those the engine allows.
    const references = new Set(links.filter((l) => l.client_id === clientId && l.roles.includes(service.role)).flatMap((l) => l.references));
    if (references.size > 0) {
      for (const p of await deps.oidc.previewConsent(userId, clientId, scopesCoveringFields(deps, [...references]))) {
        for (const f of p.fields) if (references.has(f.field)) fields.add(f.field);
      }
    }
    const lastUse = await lastReleaseAt(deps.db, userId, clientId);
    entries.push({
      service_id: clientId,
      name: service.name,
      role: service.role,
      scopes: scopeList,
      fields: [...fields].sort(),
      documents: [...documents].sort(),
      granted_at: new Date(grantedAt * 1000).toISOString(),
      last_used_at: lastUse ? new Date(lastUse).toISOString() : null,
    });
  }
  return entries;
}

export interface RevocationResult {
  service_id: string;
  revoked: RevokedCounts;
  /**
   * `backchannel_logout`: a logout token is queued for the service (it registered a back-channel logout URI);
   * `webhook`: a signed `grant.revoked` event is queued for it (it has a webhook endpoint).
   */
  notified: { backchannel_logout: boolean; webhook: boolean };
}

/**
 * Removes every grant the person gave this service and every artifact issued under them, and unlinks the person's
 * documents from it (each link is a basis the service could read under), in one transaction, which
 * also queues the service's back-channel logout, where it registered one: the outbox delivers it after the answer,
 * retrying while the service is down, so a slow or hanging service never holds up the revocation.
 */
export async function revokeAccess(deps: AppDeps, userId: string, serviceId: string, clientIp: string): Promise<RevocationResult> {
  return withTransaction(deps.db, async (trx) => {
    // The person's documents unlinked from the service first (a link is a basis of its own, src/features/documents;
    // a release under a link and a grant locks the link before the grant, and so does this), then the grants, locked
    // in id order as a release's admission locks them; all before the chain's lock.
    const documents = await unlinkService(trx, userId, serviceId);
    const { grantIds: grants, revoked } = await revokeGrants(trx, userId, serviceId);
    // The person's shares for the service too: their status bits read revoked from this commit on.
    const shares = await revokeSharesOfService(trx, userId, serviceId);
    if (grants.length === 0 && shares.length === 0 && documents.length === 0) {
      throw new GrantNotFound(`you have not granted ${serviceId} access, or it was already revoked`);
    }
    await recordAudit(trx, {
      action: 'grant.revoked',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: {
        client_id: serviceId,
        grant_ids: grants,
        ...revoked,
        ...(shares.length > 0 ? { share_ids: shares } : {}),
        ...(documents.length > 0 ? { unlinked_document_ids: documents } : {}),
      },
    });
    const service = await findService(trx, serviceId);
    const notify = Boolean(service?.backchannel_logout_uri && !service.disabled_at);
    // No session id: the revocation ends every session of this person at the service, not one.
    if (notify) await deps.outbox.enqueueBackchannelLogout(trx, { clientId: serviceId, sub: userId, sid: '' });
    const told = await enqueueGrantRevoked(trx, deps, [{ userId, clientId: serviceId, reason: 'revoked' }]);
    return { service_id: serviceId, revoked, notified: { backchannel_logout: notify, webhook: told.has(serviceId) } };
  });
}
