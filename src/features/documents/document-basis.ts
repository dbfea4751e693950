/** Releases of a document's references to a service it is linked to, under the person's grant (issue 16). */
import type { BasisKind, DocumentBasis } from '../../disclosure/basis.ts';
import { InvalidToken } from '../../errors.ts';
import { LIVE_DOCUMENT_READS_LOCKED } from './documents.repo.ts';

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
