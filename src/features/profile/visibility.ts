/**
 * What the public — anyone but the owner, signed in or not, with no grant — may see of a profile. This file is the
 * one place that decides it for the directory, public profiles, avatars and status posts; the policy engine takes
 * the decision over here.
 */
import type { AppDeps } from '../../http/types.ts';
import type { Catalogue } from '../../policy/catalogue.ts';

const PUBLIC_RING = 'public';

/** The ring of every catalogue field: the owner's choice when one is stored, else the catalogue's default. */
export function effectiveRings(catalogue: Catalogue, stored: Iterable<{ field: string; ring: string }>): Map<string, string> {
  const rings = new Map<string, string>();
  for (const def of catalogue.fields.values()) rings.set(def.name, def.ring);
  for (const row of stored) if (rings.has(row.field)) rings.set(row.field, row.ring);
  return rings;
}

/**
 * The fields of one profile the public may see: the policy engine's answer for the public reader (policies/roles/
 * public.yaml) under the owner's rings. Only whole fields: a partly public structured field is not shown.
 */
export function publicFields(deps: Pick<AppDeps, 'policy'>, stored: Iterable<{ field: string; ring: string }>): Set<string> {
  const { engine, policies } = deps.policy;
  const placements: Record<string, string> = {};
  for (const row of stored) placements[row.field] = row.ring;
  // Custom rings never admit the public, so the public's answer needs no custom ring beyond its `custom:` tag.
  const decision = engine.decide({ kind: 'public' }, { placements, custom: [] });
  return new Set(decision.fields.filter((field) => policies.catalogue.fields.has(field)));
}

/** A profile is in the directory, and reachable by its handle, only while its handle is public. */
export function isListed(visible: ReadonlySet<string>): boolean {
  return visible.has('handle');
}

/** Rings of the status posts the public may read, of a listed profile. */
export function publicStatusRings(): readonly string[] {
  return [PUBLIC_RING];
}
