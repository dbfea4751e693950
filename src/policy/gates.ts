/**
 * The gates of one decision — reader, ceiling, the person's ring setting, the role's rules, the grant's scopes —
 * and the CASL ability compiled from them. Explanations read the same gates (explain.ts), so a decision and its
 * explanation cannot disagree.
 */
import { createMongoAbility, type MongoAbility, type RawRuleOf } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import { Decision } from './decision.ts';
import type { Source } from './problems.ts';
import { frozenSet, type Policies, type RoleDef } from './load.ts';
import { customRingAdmits, resolvePlacements, type Placement, type UserRings } from './placements.ts';
import { readerKey, type Reader } from './reader.ts';

/** What the person granted the reader: OAuth scopes, or an open break-the-glass access. */
export interface Grant {
  scopes: readonly string[];
  id?: string;
  /** An emergency access is open: the role's break_the_glass fields are judged against its break-the-glass ceiling. */
  breakTheGlass?: boolean;
}

export const SUBJECT = 'Profile';
export const ACTION = 'read';

export type Ability = MongoAbility<[typeof ACTION, typeof SUBJECT]>;

/** A compiled, cached ability and the decision it gives. */
export interface Compiled {
  key: string;
  ability: Ability;
  decision: Decision;
}

/** The grant a reader is judged under: a service always has one (no scopes if none given), the public never. */
export function effectiveGrant(reader: Reader, grant: Grant | undefined): Grant | undefined {
  return reader.kind === 'service' ? (grant ?? { scopes: [] }) : reader.kind === 'role' ? grant : undefined;
}

/** The per-field gates for one (reader, rings, grant): what the CASL rules are built from and explained by. */
export class Evaluation {
  readonly policies: Policies;
  readonly reader: Reader;
  readonly role: RoleDef | undefined;
  readonly grant: Grant | undefined;
  readonly #placements: ReadonlyMap<string, Placement>;
  readonly #scopeLeaves: ReadonlySet<string>;
  /** Most closed default ring a `ring:` scope of the grant covers; -1 for none. */
  readonly #ringScopeRank: number;
  readonly scopesApplied: boolean;

  /** `everyScope`: judge a role as if granted every scope even with a grant (break-the-glass in ring admission). */
  constructor(policies: Policies, reader: Reader, rings: UserRings, grant: Grant | undefined, everyScope = false) {
    this.policies = policies;
    this.reader = reader;
    this.grant = grant;
    this.role = reader.kind === 'owner' ? undefined : policies.roles.get(reader.kind === 'public' ? 'public' : reader.role);
    this.#placements = resolvePlacements(policies, rings);
    // A service reads only through a grant; a role without one is the role's reach with every scope.
    this.scopesApplied = !everyScope && (reader.kind === 'service' || (reader.kind === 'role' && grant !== undefined));
    const scopes = grant?.scopes ?? [];
    const leaves = new Set<string>();
    let ringRank = -1;
    for (const s of scopes) {
      const def = policies.scopes.get(s);
      if (def) for (const l of def.leaves) leaves.add(l);
      if (s.startsWith('ring:') && policies.ringScopes.has(s.slice(5))) ringRank = Math.max(ringRank, policies.ringRank.get(s.slice(5))!);
    }
    this.#scopeLeaves = leaves;
    this.#ringScopeRank = ringRank;
  }

  placementOf(field: string): Placement {
    return this.#placements.get(field)!;
  }

  breakTheGlassFor(leaf: string): boolean {
    return this.grant?.breakTheGlass === true && this.role?.breakTheGlass?.leaves.has(leaf) === true;
  }

  ceilingFor(leaf: string): { ring: string; rank: number; source: Source; breakTheGlass: boolean } {
    const role = this.role!;
    if (this.breakTheGlassFor(leaf)) {
      const btg = role.breakTheGlass!;
      return { ring: btg.ceiling, rank: btg.ceilingRank, source: btg.source, breakTheGlass: true };
    }
    return { ring: role.ceiling, rank: role.ceilingRank, source: role.ceilingSource, breakTheGlass: false };
  }

  /**
   * The organisation's limit: the field's classification (its default ring) is within the ceiling. It bounds what
   * roles receive through grants; the public reads the public ring, where only the owner can put a field.
   */
  withinCeiling(leaf: string): boolean {
    if (this.reader.kind === 'public') return true;
    const field = this.policies.fields.get(this.policies.leafField.get(leaf)!)!;
    return field.classification <= this.ceilingFor(leaf).rank;
  }

  /** The person's setting: the field's ring is within the ceiling, or its custom ring admits this reader. */
  placementAdmits(leaf: string): boolean {
    const placement = this.placementOf(this.policies.leafField.get(leaf)!);
    switch (placement.kind) {
      case 'ring':
        return placement.rank <= this.ceilingFor(leaf).rank;
      case 'custom':
        return this.breakTheGlassFor(leaf) || customRingAdmits(placement.ring, this.reader);
      case 'unknown':
        return false;
    }
  }

  /** The grant's scopes cover the field (true when no scope layer applies to this reader). */
  scopeCovers(leaf: string): boolean {
    if (!this.scopesApplied) return true;
    if (this.#scopeLeaves.has(leaf)) return true;
    const placement = this.placementOf(this.policies.leafField.get(leaf)!);
    return placement.kind === 'ring' && placement.rank <= this.#ringScopeRank;
  }

  scopesCovering(leaf: string): string[] {
    const placement = this.placementOf(this.policies.leafField.get(leaf)!);
    return (this.grant?.scopes ?? []).filter((s) => {
      if (this.policies.scopes.get(s)?.leaves.has(leaf)) return true;
      const ring = s.startsWith('ring:') ? s.slice(5) : undefined;
      return (
        ring !== undefined && this.policies.ringScopes.has(ring) && placement.kind === 'ring' && placement.rank <= this.policies.ringRank.get(ring)!
      );
    });
  }

  /** The CASL rules: allow rules first, then every gate as a forbidding rule; later rules win, so a denial wins. */
  rules(): RawRuleOf<Ability>[] {
    if (this.reader.kind === 'owner') return [{ action: ACTION, subject: SUBJECT, reason: 'owner' }];
    const role = this.role;
    if (!role) return [];
    const out: RawRuleOf<Ability>[] = [];
    for (const rule of role.rules) {
      if (rule.effect === 'allow') out.push({ action: ACTION, subject: SUBJECT, fields: [...rule.leaves], reason: `allow:${rule.index}` });
    }
    const scope: string[] = [];
    const placement: string[] = [];
    const ceiling: string[] = [];
    for (const leaf of this.policies.leaves) {
      if (!this.scopeCovers(leaf)) scope.push(leaf);
      if (!this.placementAdmits(leaf)) placement.push(leaf);
      if (!this.withinCeiling(leaf)) ceiling.push(leaf);
    }
    // Empty `fields` would mean "every field" to CASL: skip empty gates.
    if (scope.length > 0) out.push({ action: ACTION, subject: SUBJECT, fields: scope, inverted: true, reason: 'scope' });
    if (placement.length > 0) out.push({ action: ACTION, subject: SUBJECT, fields: placement, inverted: true, reason: 'placement' });
    if (ceiling.length > 0) out.push({ action: ACTION, subject: SUBJECT, fields: ceiling, inverted: true, reason: 'ceiling' });
    for (const rule of role.rules) {
      if (rule.effect === 'deny')
        out.push({ action: ACTION, subject: SUBJECT, fields: [...rule.leaves], inverted: true, reason: `deny:${rule.index}` });
    }
    return out;
  }
}

/** Builds the ability of one (reader, rings, grant) from its gates, and the decision it gives. */
export function compile(policies: Policies, key: string, reader: Reader, rings: UserRings, grant: Grant | undefined, everyScope = false): Compiled {
  const evaluation = new Evaluation(policies, reader, rings, grant, everyScope);
  const ability = createMongoAbility<Ability>(evaluation.rules());
  // Every rule lists concrete leaves (patterns were expanded at load), so permittedFieldsOf cannot leak a
  // field a pattern denies.
  const permitted = permittedFieldsOf(ability, ACTION, SUBJECT, { fieldsFrom: (rule) => rule.fields ?? (policies.leaves as string[]) });
  // Decisions are cached and shared between requests: nothing may change them.
  const decision = new Decision(policies, readerKey(reader), frozenSet(permitted));
  return Object.freeze({ key, ability, decision });
}
