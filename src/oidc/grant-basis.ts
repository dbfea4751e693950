/** Releases under an OAuth grant (the data API, userinfo), as the disclosure pipeline admits them. */
import type { BasisKind, GrantBasis } from '../disclosure/basis.ts';
import { Unauthenticated } from '../errors.ts';
import { LIVE_GRANTS_LOCKED } from './grants.repo.ts';

export const GRANT_BASIS: BasisKind<GrantBasis> = {
  idFact: 'grant_id',
  grant: (basis) => ({ scopes: basis.scopes }),
  facts: (basis) => ({ client_id: basis.clientId, grant_id: basis.grantId }),
  liveIds: LIVE_GRANTS_LOCKED,
  // What the data API has always answered for a revoked grant; userinfo answers the provider's invalid_token.
  refused: () => new Unauthenticated('the grant behind this token has been revoked', { code: 'invalid_token' }),
};
