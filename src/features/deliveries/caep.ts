/**
 * The claims of a CAEP `token-claims-change` (src/notify/security-events.ts): the new values of a profile change
 * that an SSF service may read, released at the moment of sending — through the disclosure pipeline, on record
 * before the SET leaves — under what the service holds then, as its own reads would be: its live grants of the
 * person (the data API's scopes), then the documents the event names that are linked to it and intended for its
 * role (the link's basis, narrowed to their references). Answered under the OpenID claim names (`address`), as the
 * service's tokens carry them. A field nothing releases now is left out; when none is,
 * nothing is sent. Nothing is kept: the SET is signed per attempt, so a retry releases (and records) again.
 */
import type { AppDeps } from '../../deps.ts';
import { InvalidToken } from '../../errors.ts';
import { scopesOf, listLiveGrants } from '../../oidc/grants.repo.ts';
import { dataResource } from '../../oidc/provider.ts';
import { getService } from '../../oidc/services.ts';
import { scopesCoveringFields } from '../documents/document-basis.ts';
import { findLinkedDocument } from '../documents/documents.repo.ts';

/** A basis revoked since it was read here releases nothing (the pipeline refused it); any other error is the attempt's. */
function revokedSince(err: unknown): undefined {
  if (err instanceof InvalidToken) return undefined;
  throw err;
}

/** Released as a pushed security event, not read through the data API: the audit event's `via`. */
const VIA = 'caep';

export async function releaseEventClaims(
  deps: AppDeps,
  change: { clientId: string; userId: string; fields: readonly string[]; documents: readonly string[] },
): Promise<Record<string, unknown>> {
  const { clientId, userId } = change;
  const service = await getService(deps.db, clientId);
  const reader = { kind: 'service' as const, clientId, role: service.role };
  const claims: Record<string, unknown> = {};
  const missing = () => change.fields.filter((f) => !(f in claims));
  for (const grant of await listLiveGrants(deps.db, userId, clientId)) {
    if (missing().length === 0) break;
    const scopes = scopesOf(grant, dataResource(deps.config));
    const released = await deps.disclosure
      .release({
        reader,
        subject: userId,
        basis: { kind: 'grant', grantId: grant.id, clientId, scopes },
        fields: missing(),
        via: VIA,
        record: 'if-released',
      })
      .catch(revokedSince);
    if (released) Object.assign(claims, released.values);
  }
  for (const documentId of change.documents) {
    const wanted = missing();
    if (wanted.length === 0) break;
    const document = await findLinkedDocument(deps.db, clientId, documentId);
    if (!document || document.user_id !== userId || !document.roles.includes(service.role)) continue;
    const fields = document.references.filter((f) => wanted.includes(f));
    if (fields.length === 0) continue;
    const released = await deps.disclosure
      .release({
        reader,
        subject: userId,
        basis: { kind: 'document_link', documentId, linkId: document.link_id, clientId, scopes: scopesCoveringFields(deps, document.references) },
        fields,
        via: VIA,
        record: 'if-released',
      })
      .catch(revokedSince);
    if (released) Object.assign(claims, released.values);
  }
  // Named as the service's tokens and userinfo name them; a field with no OpenID claim by its data API name.
  const { fields } = deps.policy.policies;
  return Object.fromEntries(Object.entries(claims).map(([field, value]) => [fields.get(field)?.claim ?? field, value]));
}
