import { Reply, type Handler } from '../../deps.ts';
import { EmergencyAccessNotFound } from '../../errors.ts';
import { cardPdf, cardPng } from './card.ts';
import { findEmergencyByUser } from './emergency.repo.ts';
import { openCardId, openSetup } from './setup.ts';

/** The printable emergency card, PNG (default) or PDF. */
export const getEmergencyCard: Handler = async ({ caller, query }, deps) => {
  if (caller.kind !== 'user') throw new Error('getEmergencyCard needs a user caller');
  const row = await findEmergencyByUser(deps.db, caller.userId);
  if (!row) throw new EmergencyAccessNotFound('you have no emergency access set up: create it with POST /api/v1/profile/emergency-access');
  const cardId = openCardId(deps.keyring, row);
  const text = openSetup(deps.keyring, row).public_text;
  const pdf = query.format === 'pdf';
  return new Reply(pdf ? await cardPdf(cardId, text) : await cardPng(cardId, text), {
    type: pdf ? 'application/pdf' : 'image/png',
    headers: {
      'Cache-Control': 'private, no-store',
      'Content-Disposition': `inline; filename="emergency-card.${pdf ? 'pdf' : 'png'}"`,
    },
  });
};
