/**
 * The public view of a profile: what anyone — signed in or not, with no grant — sees of one person, whether the
 * person is in the directory, and which rings of their status posts the public reads. The directory, public
 * profiles, avatars and status posts all ask this; nothing else decides it.
 */
import type { Decision } from './decision.ts';
import type { Policies } from './load.ts';
import { ringsFromRows, type UserRings } from './placements.ts';
import type { Reader } from './reader.ts';

/** The field that, while the public sees it, puts a profile in the directory and makes it reachable by handle. */
export const LISTING_FIELD = 'handle';

export interface PublicView {
  /** Whole catalogue fields the public may see (a partly public structured field is not shown), catalogue order. */
  fields: ReadonlySet<string>;
  /** In the directory, and reachable by its handle, only while its handle is public. */
  listed: boolean;
  /** Rings of the status posts the public may read (of a listed profile). */
  statusRings: readonly string[];
}

/** The engine's decisions the public view is made of. */
export interface PublicJudge {
  readonly policies: Policies;
  decide(reader: Reader, rings?: UserRings): Decision;
}

/**
 * The public view under the owner's stored placements: the engine's answer for the public reader
 * (policies/roles/public.yaml). Custom rings never admit the public, so their `custom:<id>` tags are all it needs.
 */
export function publicViewOf(judge: PublicJudge, stored: Iterable<{ field: string; ring: string }>): PublicView {
  const decision = judge.decide({ kind: 'public' }, ringsFromRows(stored));
  const fields = new Set(decision.fields.filter((field) => judge.policies.catalogue.fields.has(field)));
  return { fields, listed: fields.has(LISTING_FIELD), statusRings: statusRingsFor(judge.policies, { kind: 'public' }) };
}

/**
 * Rings of a person's status posts a reader may read: the owner every ring, anyone else the default rings within
 * their role's ceiling (the public's role for the public). Posts are not catalogued fields: rules do not name them.
 */
export function statusRingsFor(policies: Policies, reader: Reader): readonly string[] {
  if (reader.kind === 'owner') return policies.rings.map((r) => r.name);
  const role = policies.roles.get(reader.kind === 'public' ? 'public' : reader.role);
  if (!role) return [];
  return policies.rings.filter((r) => policies.ringRank.get(r.name)! <= role.ceilingRank).map((r) => r.name);
}
