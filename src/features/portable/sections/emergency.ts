/**
 * Emergency settings: the setup (medical items, referenced profile fields, criteria, trusted contacts and whether
 * each declined, the card's text), opened with its own data key on export and sealed on import under a new data key
 * of its own (src/features/emergency/setup.ts restoreSetup). The card id is new (the old card names the old
 * instance); the access log is not carried; contacts who had not declined are told by e-mail, as when named.
 */
import { type CarriedSetup, carrySetup, restoreSetup } from '../../emergency/setup.ts';
import type { PortableSection } from './section.ts';

export const emergencySection: PortableSection = {
  name: 'emergency',
  version: 1,
  async export(trx, { deps, userId }) {
    return (await carrySetup(trx, deps.keyring, userId)) ?? null;
  },
  async import(trx, ctx, data) {
    if (data === null) return { imported: 0 };
    const carried = data as CarriedSetup;
    if (typeof carried.emergency_info !== 'object' || carried.emergency_info === null || !Array.isArray(carried.criteria?.conditions)) {
      return { imported: 0, skipped: ['emergency setup: not one this instance keeps'] };
    }
    const skipped = await restoreSetup(trx, ctx.deps, ctx.userId, carried, ctx.clientIp);
    return {
      imported: 1,
      skipped: [
        'emergency setup: a new emergency card was made here (print it again); the old card and access log stay with the other instance',
        ...skipped,
      ],
    };
  },
};
