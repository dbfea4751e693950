/** Custom rings: name, description and the roles they admit. Services are the old instance's clients: dropped. */
import { bumpRingsVersion, insertCustomRing, listCustomRings, lockRingSettings } from '../../rings/rings.repo.ts';
import type { PortableSection } from './section.ts';

interface ExportedRing {
  id: string;
  name: string;
  description: string | null;
  roles: string[];
  services: string[];
}

export const ringsSection: PortableSection = {
  name: 'rings',
  version: 1,
  async export(trx, { userId }) {
    return (await listCustomRings(trx, userId)).map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      roles: r.roles,
      services: r.services,
    }));
  },
  async import(trx, ctx, data) {
    const rings = data as ExportedRing[];
    const { roles } = ctx.deps.policy.policies;
    const skipped: string[] = [];
    await lockRingSettings(trx, ctx.userId);
    for (const r of rings) {
      const kept = r.roles.filter((role) => roles.has(role));
      for (const role of r.roles.filter((x) => !roles.has(x))) skipped.push(`ring ${r.name}: role ${role} does not exist here`);
      for (const s of r.services) skipped.push(`ring ${r.name}: service ${s} belongs to the other instance; add this instance's services again`);
      const id = await insertCustomRing(trx, ctx.userId, { name: r.name, description: r.description, roles: kept, services: [] });
      ctx.ringIds.set(r.id, id);
    }
    if (rings.length > 0) await bumpRingsVersion(trx, ctx.userId);
    return { imported: rings.length, ...(skipped.length ? { skipped } : {}) };
  },
};
