/** Releases under a health link (a doctor's access to the records a person shared), as the disclosure pipeline admits them. */
import type { BasisKind, HealthLinkBasis } from '../../disclosure/basis.ts';
import { HealthLinkGone } from '../../errors.ts';
import { LIVE_HEALTH_LINKS_LOCKED } from './health.repo.ts';
import { HEALTH_LINK_SCOPES } from './links.ts';

export const HEALTH_LINK_BASIS: BasisKind<HealthLinkBasis> = {
  idFact: 'health_link_id',
  grant: () => ({ scopes: HEALTH_LINK_SCOPES }),
  facts: (basis) => ({ health_link_id: basis.linkId }),
  liveIds: LIVE_HEALTH_LINKS_LOCKED,
  refused: () => new HealthLinkGone(),
};
