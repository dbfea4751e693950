/** Releases of a document's references to a service it is linked to: under the person's grant, or under the link alone (issue 16). */
import type { BasisKind, DocumentBasis, DocumentLinkBasis } from '../../disclosure/basis.ts';
import { InvalidToken } from '../../errors.ts';
import type { AppDeps } from '../../deps.ts';
import { LIVE_DOCUMENT_LINKS_LOCKED, LIVE_DOCUMENT_READS_LOCKED } from './documents.repo.ts';

export const DOCUMENT_BASIS: BasisKind<DocumentBasis> = {
  // Not `grant_id`: an event names its basis by one fact, and this one is the link and the grant together.
  idFact: 'document_read',
  grant: (basis) => ({ scopes: basis.scopes }),
  facts: (basis) => ({
    client_id: basis.clientId,
    document_id: basis.documentId,
    document_read: `${basis.linkId}:${basis.grantId}`,
    under_grant: basis.grantId,
  }),
  liveIds: LIVE_DOCUMENT_READS_LOCKED,
  refused: () => new InvalidToken("the grant behind this token, or the document's link to this service, has been revoked"),
};

export const DOCUMENT_LINK_BASIS: BasisKind<DocumentLinkBasis> = {
  idFact: 'document_link',
  grant: (basis) => ({ scopes: basis.scopes }),
  facts: (basis) => ({ client_id: basis.clientId, document_id: basis.documentId, document_link: basis.linkId }),
  liveIds: LIVE_DOCUMENT_LINKS_LOCKED,
  refused: () => new InvalidToken("the document's link to this service has been removed"),
};

/**
 * The named scopes covering any of these profile fields: what a link to a document referencing them grants the
 * engine (the release is narrowed to the references themselves).
 */
export function scopesCoveringFields(deps: Pick<AppDeps, 'policy'>, fields: readonly string[]): string[] {
  const { policies } = deps.policy;
  const wanted = new Set(fields);
  const scopes: string[] = [];
  for (const [name, def] of policies.scopes) {
    if ([...def.leaves].some((leaf) => wanted.has(policies.leafField.get(leaf) ?? ''))) scopes.push(name);
  }
  return scopes.sort();
}
