/**
 * The public view of a profile: what anyone — signed in or not, with no grant — sees of one person, whether the
 * person is in the directory, and which rings of their status posts the public reads. The directory, public
 * profiles, avatars and status posts all ask this; nothing else decides it.
 */
import type { Decision } from './decision.ts';
import type { Explanation, Judge } from './explain.ts';
import type { Policies } from './load.ts';
import type { UserRings } from './placements.ts';
import type { Source } from './problems.ts';
import { readerKey, type Reader } from './reader.ts';
import { withheld, type Withheld } from './visibility.ts';

/** The field that, while the public sees it, puts a profile in the directory and makes it reachable by handle. */
const LISTING_FIELD = 'handle';

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

/** The public view under the owner's ring settings: the engine's answer for the public reader (roles/public.yaml). */
export function publicViewOf(judge: PublicJudge, rings: UserRings): PublicView {
  const decision = judge.decide({ kind: 'public' }, rings);
  const fields = new Set(decision.fields.filter((field) => judge.policies.catalogue.fields.has(field)));
  return { fields, listed: fields.has(LISTING_FIELD), statusRings: statusRingsFor(judge.policies, { kind: 'public' }) };
}

/**
 * Rings of a person's status posts a reader may read: the owner every ring, anyone else the default rings within
 * their role's ceiling (the public's role for the public). Posts are not catalogued fields: rules do not name them.
 */
function statusRingsFor(policies: Policies, reader: Reader): readonly string[] {
  if (reader.kind === 'owner') return policies.rings.map((r) => r.name);
  const role = policies.roles.get(reader.kind === 'public' ? 'public' : reader.role);
  if (!role) return [];
  return policies.rings.filter((r) => policies.ringRank.get(r.name)! <= role.ceilingRank).map((r) => r.name);
}

/** Why a reader reads status posts from these rings, with the role file that says so. */
export interface StatusRingsExplanation {
  reader: string;
  rings: readonly string[];
  reason: string;
  source?: Source;
}

/** The status rings of a reader (statusRingsFor) and the reason, from the same role. */
export function explainStatusRings(policies: Policies, reader: Reader): StatusRingsExplanation {
  const rings = statusRingsFor(policies, reader);
  const key = readerKey(reader);
  if (reader.kind === 'owner') return { reader: key, rings, reason: 'the owner reads every post of their own, in every ring' };
  const name = reader.kind === 'public' ? 'public' : reader.role;
  const role = policies.roles.get(name);
  if (!role) return { reader: key, rings, reason: `role ${name} is not defined in policies/roles/: no post is readable` };
  return { reader: key, rings, reason: `posts in the rings within ${role.name}'s ceiling ${role.ceiling}`, source: role.ceilingSource };
}

/** The public view with its reasons: the listing field's explanation, what the public does not see and why. */
export interface PublicViewExplanation {
  revision: string;
  listed: boolean;
  fields: readonly string[];
  /** The decision on the listing field (LISTING_FIELD): a profile is listed exactly when it is allowed. */
  listing: Explanation;
  withheld: Withheld[];
  statusRings: StatusRingsExplanation;
}

/** Explains publicViewOf under the same ring settings, from the same decisions. */
export function explainPublicView(judge: PublicJudge & Judge, rings: UserRings): PublicViewExplanation {
  const view = publicViewOf(judge, rings);
  const reader: Reader = { kind: 'public' };
  return {
    revision: judge.policies.revision,
    listed: view.listed,
    fields: [...view.fields],
    listing: judge.explain(reader, LISTING_FIELD, rings),
    withheld: withheld(judge, reader, rings, undefined, judge.decide(reader, rings)),
    statusRings: explainStatusRings(judge.policies, reader),
  };
}
