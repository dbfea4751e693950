/**
 * Where each field of one person's profile sits: its default ring, a default ring the person moved it to, one of
 * their custom rings, or a ring that no longer exists. This is the one place a field's effective ring is resolved
 * from the catalogue's default ring, the person's placements and their custom rings.
 */
import type { Policies } from './load.ts';
import type { Reader } from './reader.ts';

/** A ring the person made: the fields it holds and exactly who it admits. */
export interface CustomRing {
  id?: string;
  name: string;
  description?: string;
  fields: readonly string[];
  roles: readonly string[];
  services: readonly string[];
}

/** One person's ring settings. Fields not mentioned stay in their default ring. */
export interface UserRings {
  /** With `version`, names the settings in the ability cache; bump the version on every change. */
  userId?: string;
  version?: number | string;
  /** field → a default ring's name, or `custom:<id>` of one of `custom`. */
  placements: Readonly<Record<string, string>>;
  custom: readonly CustomRing[];
}

export const NO_USER_RINGS: UserRings = Object.freeze({ placements: Object.freeze({}), custom: Object.freeze([]) });

export const CUSTOM_PREFIX = 'custom:';

/** Where one field sits for one person. */
export type Placement =
  | { kind: 'ring'; ring: string; rank: number; moved: boolean }
  | { kind: 'custom'; ring: CustomRing }
  | { kind: 'unknown'; ring: string };

/** Whether a custom ring admits a reader: exactly its roles and services (ceilings and rules still apply). */
export function customRingAdmits(ring: CustomRing, reader: Reader): boolean {
  switch (reader.kind) {
    case 'owner':
      return true;
    case 'public':
      return false; // the public ring is for that
    case 'role':
      return ring.roles.includes(reader.role);
    case 'service':
      return ring.roles.includes(reader.role) || ring.services.includes(reader.clientId);
  }
}

const placementCache = new WeakMap<Policies, WeakMap<UserRings, ReadonlyMap<string, Placement>>>();

/** Every catalogued field's placement for one person; an unknown ring hides the field (fail closed). */
export function resolvePlacements(policies: Policies, rings: UserRings): ReadonlyMap<string, Placement> {
  let perPolicies = placementCache.get(policies);
  if (!perPolicies) {
    perPolicies = new WeakMap();
    placementCache.set(policies, perPolicies);
  }
  const cached = perPolicies.get(rings);
  if (cached) return cached;
  const out = new Map<string, Placement>();
  const inCustom = new Map<string, CustomRing>();
  for (const ring of rings.custom) for (const f of ring.fields) if (!inCustom.has(f)) inCustom.set(f, ring);
  const byId = new Map(rings.custom.filter((r) => r.id).map((r) => [`${CUSTOM_PREFIX}${r.id}`, r]));
  for (const def of policies.fields.values()) {
    const custom = inCustom.get(def.name);
    const chosen = rings.placements[def.name];
    if (custom) out.set(def.name, { kind: 'custom', ring: custom });
    else if (chosen === undefined || chosen === def.ring) out.set(def.name, { kind: 'ring', ring: def.ring, rank: def.classification, moved: false });
    else if (policies.ringRank.has(chosen)) out.set(def.name, { kind: 'ring', ring: chosen, rank: policies.ringRank.get(chosen)!, moved: true });
    else if (byId.has(chosen)) out.set(def.name, { kind: 'custom', ring: byId.get(chosen)! });
    else out.set(def.name, { kind: 'unknown', ring: chosen });
  }
  perPolicies.set(rings, out);
  return out;
}

/** A placement as stored rows name it: a default ring, `custom:<id>` (a new ring's name), or the unknown name. */
function placementName(placement: Placement): string {
  if (placement.kind !== 'custom') return placement.ring;
  return placement.ring.id !== undefined ? `${CUSTOM_PREFIX}${placement.ring.id}` : placement.ring.name;
}

/** The effective ring of every catalogued field for one person, named as stored rows name it (resolvePlacements). */
export function effectiveRings(policies: Policies, rings: UserRings): Map<string, string> {
  const out = new Map<string, string>();
  for (const [field, placement] of resolvePlacements(policies, rings)) out.set(field, placementName(placement));
  return out;
}

/** Ring settings from stored `{field, ring}` rows alone: custom rings are known only by their `custom:<id>` tags. */
export function ringsFromRows(rows: Iterable<{ field: string; ring: string }>): UserRings {
  const placements: Record<string, string> = {};
  for (const row of rows) placements[row.field] = row.ring;
  return { placements, custom: [] };
}
