/** Releases under an OAuth grant (the data API, userinfo), as the disclosure pipeline admits them. */
import type { BasisKind, GrantBasis } from '../disclosure/basis.ts';
import { InvalidToken } from '../errors.ts';
import { LIVE_GRANTS_LOCKED } from './grants.repo.ts';

export const GRANT_BASIS: BasisKind<GrantBasis> = {
  idFact: 'grant_id',
  grant: (basis) => ({ scopes: basis.scopes }),
  facts: (basis) => ({ client_id: basis.clientId, grant_id: basis.grantId }),
  liveIds: LIVE_GRANTS_LOCKED,
  // What the data API has always answered for a revoked grant; userinfo answers the provider's invalid_token.
  refused: () => new InvalidToken('the grant behind this token has been revoked'),
};
