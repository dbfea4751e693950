/** Releases under a share (share-create, an approved request), as the disclosure pipeline admits them. */
import type { BasisKind, ShareBasis } from '../../disclosure/basis.ts';
import { FieldNotShareable } from '../../errors.ts';
import { LIVE_SHARES_LOCKED } from './shares.repo.ts';

export const SHARE_BASIS: BasisKind<ShareBasis> = {
  idFact: 'share_id',
  grant: (basis) => ({ scopes: basis.scopes }),
  facts: (basis) => ({ client_id: basis.clientId, share_id: basis.shareId }),
  liveIds: LIVE_SHARES_LOCKED,
  refused: () => new FieldNotShareable('this share was revoked or expired before it could be issued'),
};
