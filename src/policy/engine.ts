/**
 * The decision engine: which fields of one person's profile a reader may see. The policy files, the person's ring
 * settings and the reader's grant compile into one CASL ability per (policy revision, reader, rings version,
 * grant), cached; every answer — readable fields, an explanation, the visibility report — comes from that ability
 * and from the same per-field gates that built it. Semantics: policies/README.md.
 *
 * The engine's parts, one concern each: reader.ts (who reads), placements.ts (where a field sits), gates.ts (the
 * gates and the ability), decision.ts (what a reader may see), cache.ts, explain.ts, visibility.ts and capped.ts
 * (reports), and the decisions features ask for by name: public-view.ts (the public view, the directory listing,
 * status rings), admission.ts (which roles a ring admits) and claims.ts (OIDC claims and their companions). This
 * file is the entry other folders import; features ask it and never re-implement a decision.
 */
import { ringAdmission, type RoleAdmission } from './admission.ts';
import { AbilityCache, abilityKey } from './cache.ts';
import { cappedSettings, type Capped } from './capped.ts';
import { claimsOfFields, companionClaims, companionsOf, findCompanionSource, type AccountFacts } from './claims.ts';
import { canonicalFields, leavesOf, UnknownField, type Decision } from './decision.ts';
import { explainLeaf, type Explanation } from './explain.ts';
import { compile, effectiveGrant, Evaluation, type Compiled, type Grant } from './gates.ts';
import type { Policies } from './load.ts';
import { effectiveRings, NO_USER_RINGS, ringsFromRows, type UserRings } from './placements.ts';
import {
  explainPublicView,
  explainStatusRings,
  publicViewOf,
  type PublicView,
  type PublicViewExplanation,
  type StatusRingsExplanation,
} from './public-view.ts';
import { readerKey, type Reader } from './reader.ts';
import { visibilityReport, type Visibility } from './visibility.ts';

export type { Capped } from './capped.ts';
export type { AccountFacts } from './claims.ts';
export { UnknownField } from './decision.ts';
export type { Grant } from './gates.ts';
export { CUSTOM_PREFIX, NO_USER_RINGS, type CustomRing, type UserRings } from './placements.ts';
export { parseReader, type Reader } from './reader.ts';

export interface EngineOptions {
  /** Cached abilities kept at most; the least recently used go first. */
  maxEntries?: number;
}

/** Answers every "who may see what" question from one loaded policy; see policies/README.md for the rules. */
export class PolicyEngine {
  #policies: Policies;
  readonly #cache: AbilityCache;
  /** Set while the revision loaded is no longer the one in force (src/policy/revision.ts): no decision is made. */
  #refusal: (() => Error) | undefined;

  constructor(policies: Policies, options: EngineOptions = {}) {
    this.#policies = policies;
    this.#cache = new AbilityCache(options.maxEntries ?? 10_000);
  }

  get policies(): Policies {
    return this.#policies;
  }

  get revision(): string {
    return this.#policies.revision;
  }

  /** Switches to another policy revision; every cached ability is dropped, and decisions are made again. */
  reload(policies: Policies): void {
    this.#policies = policies;
    this.#refusal = undefined;
    this.clearCache();
  }

  /** From now on every decision throws what `refusal` makes, until `resume` or `reload`: the revision is outdated. */
  refuse(refusal: () => Error): void {
    this.#refusal = refusal;
  }

  resume(): void {
    this.#refusal = undefined;
  }

  /** The error a decision would throw now, if this engine refuses them. */
  refusal(): Error | undefined {
    return this.#refusal?.();
  }

  clearCache(): void {
    this.#cache.clear();
  }

  /** Drops every cached ability built from this person's settings (their rings changed elsewhere). */
  invalidateUser(userId: string): void {
    this.#cache.invalidateUser(userId);
  }

  cacheStats(): { entries: number; hits: number; misses: number } {
    return this.#cache.stats();
  }

  /** The CASL ability of one reader over one person's profile, built or taken from the cache. */
  abilityFor(reader: Reader, rings: UserRings = NO_USER_RINGS, grant?: Grant): Compiled {
    if (this.#refusal) throw this.#refusal();
    const policies = this.#policies;
    const judged = effectiveGrant(reader, grant);
    const key = abilityKey(policies.revision, reader, rings, judged);
    return this.#cache.obtain(key, rings.userId, () => compile(policies, key, reader, rings, judged));
  }

  /** Which fields this reader may see now, and under which revision. */
  decide(reader: Reader, rings: UserRings = NO_USER_RINGS, grant?: Grant): Decision {
    return this.abilityFor(reader, rings, grant).decision;
  }

  /** The readable fields: whole fields, or the readable properties of a partly readable structured field. */
  readableFields(reader: Reader, rings: UserRings = NO_USER_RINGS, grant?: Grant): readonly string[] {
    return this.decide(reader, rings, grant).fields;
  }

  /** Fields the given scopes cover for this person, before any ceiling or rule: what a consent screen lists. */
  fieldsForScopes(scopes: readonly string[], rings: UserRings = NO_USER_RINGS): readonly string[] {
    const evaluation = new Evaluation(this.#policies, { kind: 'service', clientId: '', role: '' }, rings, { scopes });
    return canonicalFields(this.#policies, new Set(this.#policies.leaves.filter((l) => evaluation.scopeCovers(l))));
  }

  /** OIDC claims of already projected values (Decision.project): each field under its catalogue claim. */
  claimsOf(projected: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return claimsOfFields(this.#policies, projected);
  }

  /** The companion claims (`email_verified`) that go with released claims (claimsOf): never one without its claim. */
  companionsOf(claims: Readonly<Record<string, unknown>>): string[] {
    return companionsOf(claims);
  }

  /** The companion claims of released claims with their values, from facts about the account. */
  companionClaims(claims: Readonly<Record<string, unknown>>, facts: AccountFacts): Record<string, unknown> {
    return companionClaims(claims, facts);
  }

  /** Why a companion claim is or is not released: it follows the decision on the field of its claim. */
  explainCompanion(
    reader: Reader,
    companion: string,
    rings: UserRings = NO_USER_RINGS,
    grant?: Grant,
  ): { companion: string; claim: string; field: string; explanation: Explanation } {
    const source = findCompanionSource(this.#policies, companion);
    if (!source) throw new UnknownField(companion);
    return { companion, ...source, explanation: this.explain(reader, source.field, rings, grant) };
  }

  /**
   * What the public sees of a profile under its stored placements, whether it is listed, and its public status
   * rings. Custom rings never admit the public, so their `custom:<id>` tags are all it needs of them.
   */
  publicView(stored: Iterable<{ field: string; ring: string }>): PublicView {
    return publicViewOf(this, ringsFromRows(stored));
  }

  /** The public view under a person's ring settings, with its reasons: the listing, what is withheld, status rings. */
  explainPublicView(rings: UserRings = NO_USER_RINGS): PublicViewExplanation {
    return explainPublicView(this, rings);
  }

  /** The status rings of a reader and why. */
  explainStatusRings(reader: Reader): StatusRingsExplanation {
    return explainStatusRings(this.#policies, reader);
  }

  /** Which roles a default ring admits, rules and break-the-glass included, and why. */
  ringAdmission(ring: string): readonly RoleAdmission[] {
    return ringAdmission(this.#policies, ring);
  }

  /** The effective ring of every catalogued field under stored placements (`custom:<id>` for a custom ring). */
  effectiveRings(stored: Iterable<{ field: string; ring: string }>): Map<string, string> {
    return effectiveRings(this.#policies, ringsFromRows(stored));
  }

  /** Why `path` is or is not readable: every layer, the deciding rule and the revision, from the same code. */
  explain(reader: Reader, path: string, rings: UserRings = NO_USER_RINGS, grant?: Grant): Explanation {
    const policies = this.#policies;
    const leaves = leavesOf(policies, path);
    if (leaves.length === 0) throw new UnknownField(path);
    const compiled = this.abilityFor(reader, rings, grant);
    const evaluation = new Evaluation(policies, reader, rings, effectiveGrant(reader, grant));
    const out = leaves.map((leaf) => explainLeaf(evaluation, compiled.ability, leaf));
    const allowed = out.filter((l) => l.allowed).length;
    return {
      revision: policies.revision,
      reader: readerKey(reader),
      field: path,
      verdict: allowed === out.length ? 'allow' : allowed === 0 ? 'deny' : 'partial',
      leaves: out,
    };
  }

  /** For each reader — the public, every role, every service with a grant — what it sees now and why not the rest. */
  visibility(rings: UserRings, services: readonly { clientId: string; role: string; grant: Grant }[] = []): Visibility {
    return visibilityReport(this, rings, services);
  }

  /**
   * What a person's settings ask for but cannot get: custom rings admitting a role (or a service of a known role)
   * to fields outside its ceiling or rules, and fields moved to a ring more open than their classification.
   */
  capped(rings: UserRings, serviceRoles: ReadonlyMap<string, string> = new Map()): Capped[] {
    return cappedSettings(this, rings, serviceRoles);
  }
}
