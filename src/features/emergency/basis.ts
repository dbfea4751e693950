/** Releases under an opened emergency access (break-the-glass), as the disclosure pipeline admits them. */
import type { BasisKind, EmergencyBasis } from '../../disclosure/basis.ts';
import { EmergencyAccessEnded } from '../../errors.ts';
import { LIVE_OPENINGS_LOCKED } from './emergency.repo.ts';

export const EMERGENCY_BASIS: BasisKind<EmergencyBasis> = {
  idFact: 'access_log_id',
  // The role's break_the_glass fields are judged against its break-the-glass ceiling; every other gate still holds.
  grant: (basis) => ({ scopes: basis.scopes, breakTheGlass: true }),
  facts: (basis) => ({
    access_log_id: basis.accessLogId,
    criterion: basis.criterion,
    ...(basis.opener.kind === 'responder'
      ? { client_id: basis.opener.clientId, responder_id: basis.opener.responderId }
      : { contact: `user:${basis.opener.userId}` }),
  }),
  liveIds: LIVE_OPENINGS_LOCKED,
  refused: () => new EmergencyAccessEnded('this emergency access has ended (the person ended it, or deleted their setup): nothing was released'),
};
