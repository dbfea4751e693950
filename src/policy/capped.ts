/**
 * What a person's ring settings ask for that the policy does not let happen: a custom ring cannot widen a role
 * beyond its ceiling or its rules, and a field moved to a more open ring keeps its classification.
 */
import type { Judge } from './explain.ts';
import { resolvePlacements, type UserRings } from './placements.ts';

/** Something a person's ring settings ask for that a ceiling or a role's rules do not let happen. */
export interface Capped {
  field: string;
  ring: string;
  reader: string;
  reason: string;
}

/**
 * What a person's settings ask for but cannot get: custom rings admitting a role (or a service of a known role)
 * to fields outside its ceiling or rules, and fields moved to a ring more open than their classification.
 */
export function cappedSettings(judge: Judge, rings: UserRings, serviceRoles: ReadonlyMap<string, string> = new Map()): Capped[] {
  const policies = judge.policies;
  const out: Capped[] = [];
  for (const ring of rings.custom) {
    // A service is judged as its role with every scope: scopes are the grant's business, not the ring's.
    const readers: { label: string; role: string }[] = [
      ...ring.roles.map((role) => ({ label: `role:${role}`, role })),
      ...ring.services.filter((s) => serviceRoles.has(s)).map((s) => ({ label: `service:${s}`, role: serviceRoles.get(s)! })),
    ];
    for (const { label, role } of readers) {
      for (const field of ring.fields) {
        if (!policies.fields.has(field)) continue;
        const leaves = judge.explain({ kind: 'role', role }, field, rings).leaves;
        for (const leaf of leaves.filter((l) => !l.allowed)) {
          const why = leaf.layers.find((l) => l.outcome === 'fail' && (l.layer === 'ceiling' || l.layer === 'rules' || l.layer === 'reader'));
          if (why) out.push({ field: leaves.length === 1 ? field : leaf.leaf, ring: ring.name, reader: label, reason: why.detail });
        }
      }
    }
  }
  const resolved = resolvePlacements(policies, rings);
  for (const [field, placement] of resolved) {
    if (placement.kind !== 'ring' || !placement.moved) continue;
    const def = policies.fields.get(field)!;
    if (placement.rank >= def.classification) continue;
    // Readers whose ceiling the move reaches but whose ceiling the classification does not: the move is capped.
    for (const role of policies.roles.values()) {
      if (role.name === 'public') continue; // the public reads the public ring as placed
      if (role.ceilingRank >= placement.rank && role.ceilingRank < def.classification) {
        out.push({
          field,
          ring: placement.ring,
          reader: `role:${role.name}`,
          reason: `${field} is classified ${def.ring}, beyond ${role.name}'s ceiling ${role.ceiling}; no user setting can widen a ceiling`,
        });
      }
    }
  }
  return out;
}
