import type { Handler } from '../../deps.ts';
import { EmergencyAccessNotFound } from '../../errors.ts';
import { rotateCard } from './setup.ts';

/** A new card id; the old card stops working at once. */
export const rotateEmergencyCard: Handler = async ({ caller, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('rotateEmergencyCard needs a user caller');
  const id = await rotateCard(deps, caller.userId, clientIp);
  if (!id) throw new EmergencyAccessNotFound('you have no emergency access set up');
  return { access_id: id, rotated: true };
};
