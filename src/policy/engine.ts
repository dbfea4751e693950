/**
 * The decision engine: which fields of one person's profile a reader may see. The policy files, the person's ring
 * settings and the reader's grant compile into one CASL ability per (policy revision, reader, rings version,
 * grant), cached; every answer — readable fields, an explanation, the visibility report — comes from that ability
 * and from the same per-field gates that built it. Semantics: policies/README.md.
 */
import { createHash } from 'node:crypto';
import { createMongoAbility, type MongoAbility, type RawRuleOf } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import type { Source } from './files.ts';
import { frozenSet, type Policies, type RoleDef, type RuleDef } from './load.ts';
import { patternMatches } from './patterns.ts';

/** Who is reading. A service always reads through a grant; a role alone is "any service of this role". */
export type Reader =
  | { kind: 'owner' }
  | { kind: 'public' }
  | { kind: 'role'; role: string }
  | { kind: 'service'; clientId: string; role: string };

/** What the person granted the reader: OAuth scopes, or an open break-the-glass access. */
export interface Grant {
  scopes: readonly string[];
  id?: string;
  /** An emergency access is open: the role's break_the_glass fields are judged against its break-the-glass ceiling. */
  breakTheGlass?: boolean;
}

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
const SUBJECT = 'Profile';
const ACTION = 'read';

type Ability = MongoAbility<[typeof ACTION, typeof SUBJECT]>;

/** Where one field sits for one person. */
export type Placement =
  | { kind: 'ring'; ring: string; rank: number; moved: boolean }
  | { kind: 'custom'; ring: CustomRing }
  | { kind: 'unknown'; ring: string };

export function readerKey(reader: Reader): string {
  switch (reader.kind) {
    case 'owner':
    case 'public':
      return reader.kind;
    case 'role':
      return `role:${reader.role}`;
    case 'service':
      return `service:${reader.clientId}`;
  }
}

/** Parses `owner`, `public`, `role:<name>` or `service:<client_id>@<role>`. */
export function parseReader(text: string): Reader {
  if (text === 'owner' || text === 'public') return { kind: text };
  const role = /^role:([a-z][a-z0-9_]*)$/.exec(text);
  if (role) return { kind: 'role', role: role[1] };
  const service = /^service:([\x21-\x7e]+)@([a-z][a-z0-9_]*)$/.exec(text);
  if (service) return { kind: 'service', clientId: service[1], role: service[2] };
  throw new Error(`reader ${text}: expected owner, public, role:<name> or service:<client_id>@<role>`);
}

export class UnknownField extends Error {
  constructor(path: string) {
    super(`${path} is not a catalogued field or property (see policies/fields.yaml)`);
    this.name = 'UnknownField';
  }
}

/** The fields one reader may see, under one policy revision. */
export class Decision {
  readonly revision: string;
  readonly reader: string;
  /** Whole fields when every part is readable, else the readable properties; catalogue order. */
  readonly fields: readonly string[];
  readonly leaves: ReadonlySet<string>;
  readonly #policies: Policies;
  /** Fields readable whole. */
  readonly #whole = new Set<string>();
  /** Structured fields readable in part: the readable properties. */
  readonly #partial = new Map<string, string[]>();

  constructor(policies: Policies, reader: string, leaves: ReadonlySet<string>) {
    this.#policies = policies;
    this.revision = policies.revision;
    this.reader = reader;
    this.leaves = leaves;
    const fields: string[] = [];
    for (const def of policies.fields.values()) {
      const readable = def.leaves.filter((l) => leaves.has(l));
      if (readable.length === def.leaves.length) {
        fields.push(def.name);
        this.#whole.add(def.name);
      } else if (readable.length > 0) {
        fields.push(...readable);
        this.#partial.set(def.name, readable.map((l) => l.slice(def.name.length + 1)));
      }
    }
    this.fields = Object.freeze(fields);
    Object.freeze(this);
  }

  /** Whether the whole of `path` (a field or a property) is readable. */
  can(path: string): boolean {
    const leaves = leavesOf(this.#policies, path);
    return leaves.length > 0 && leaves.every((l) => this.leaves.has(l));
  }

  /** The readable part of a profile's values: whole fields, or the readable properties of a structured one. */
  project(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(values)) {
      const value = values[name];
      if (value === undefined) continue;
      if (this.#whole.has(name)) {
        out[name] = value;
        continue;
      }
      const props = this.#partial.get(name);
      if (props && value && typeof value === 'object' && !Array.isArray(value)) {
        const part: Record<string, unknown> = {};
        for (const prop of props) if (Object.hasOwn(value, prop)) part[prop] = (value as Record<string, unknown>)[prop];
        out[name] = part;
      }
    }
    return out;
  }
}

/** Leaves under a field or property path; empty when the path is not catalogued. */
export function leavesOf(policies: Policies, path: string): readonly string[] {
  const field = policies.fields.get(path);
  if (field) return field.leaves;
  return policies.leafField.has(path) ? [path] : [];
}

/** Leaves grouped back into whole fields where every part is present; catalogue order. */
export function canonicalFields(policies: Policies, leaves: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const def of policies.fields.values()) {
    const readable = def.leaves.filter((l) => leaves.has(l));
    if (readable.length === def.leaves.length) out.push(def.name);
    else out.push(...readable);
  }
  return out;
}

/** The per-field gates for one (reader, rings, grant): what the CASL rules are built from and explained by. */
class Evaluation {
  readonly policies: Policies;
  readonly reader: Reader;
  readonly role: RoleDef | undefined;
  readonly grant: Grant | undefined;
  readonly #placements: ReadonlyMap<string, Placement>;
  readonly #scopeLeaves: ReadonlySet<string>;
  /** Most closed default ring a `ring:` scope of the grant covers; -1 for none. */
  readonly #ringScopeRank: number;
  readonly scopesApplied: boolean;

  constructor(policies: Policies, reader: Reader, rings: UserRings, grant: Grant | undefined) {
    this.policies = policies;
    this.reader = reader;
    this.grant = grant;
    this.role = reader.kind === 'owner' ? undefined : policies.roles.get(reader.kind === 'public' ? 'public' : reader.role);
    this.#placements = resolvePlacements(policies, rings);
    // A service reads only through a grant; a role without one is the role's reach with every scope.
    this.scopesApplied = reader.kind === 'service' || (reader.kind === 'role' && grant !== undefined);
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
        return this.breakTheGlassFor(leaf) || admits(placement.ring, this.reader);
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
      return ring !== undefined && this.policies.ringScopes.has(ring) && placement.kind === 'ring' && placement.rank <= this.policies.ringRank.get(ring)!;
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
      if (rule.effect === 'deny') out.push({ action: ACTION, subject: SUBJECT, fields: [...rule.leaves], inverted: true, reason: `deny:${rule.index}` });
    }
    return out;
  }
}

function admits(ring: CustomRing, reader: Reader): boolean {
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
  if (!perPolicies) placementCache.set(policies, (perPolicies = new WeakMap()));
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

/** A compiled, cached ability and the decision it gives. */
export interface Compiled {
  key: string;
  ability: Ability;
  decision: Decision;
}

export interface ExplainLayer {
  layer: 'reader' | 'ring' | 'ceiling' | 'user setting' | 'rules' | 'scope' | 'verdict';
  outcome: 'pass' | 'fail' | 'n/a';
  detail: string;
  source?: Source;
}

export interface LeafExplanation {
  leaf: string;
  allowed: boolean;
  /** The CASL rule that decided: `allow:<n>`, `deny:<n>`, `ceiling`, `placement`, `scope`, `owner`, or `default-deny`. */
  decidedBy: string;
  layers: ExplainLayer[];
}

export interface Explanation {
  revision: string;
  reader: string;
  field: string;
  verdict: 'allow' | 'deny' | 'partial';
  leaves: LeafExplanation[];
}

/** A field (or property) a reader cannot see, and the layer that withholds it. */
export interface Withheld {
  field: string;
  layer: string;
  reason: string;
}

export interface ReaderVisibility {
  reader: string;
  fields: readonly string[];
  withheld: Withheld[];
}

export interface Visibility {
  policy_revision: string;
  readers: ReaderVisibility[];
}

/** Something a person's ring settings ask for that a ceiling or a role's rules do not let happen. */
export interface Capped {
  field: string;
  ring: string;
  reader: string;
  reason: string;
}

export interface EngineOptions {
  /** Cached abilities kept at most; the least recently used go first. */
  maxEntries?: number;
}

const digests = new WeakMap<UserRings, string>();

function ringsKey(rings: UserRings): string {
  if (rings.userId !== undefined && rings.version !== undefined) return `u:${rings.userId}@${rings.version}`;
  let digest = digests.get(rings);
  if (!digest) {
    const canonical = JSON.stringify({
      p: Object.entries(rings.placements).sort(([a], [b]) => a.localeCompare(b)),
      c: rings.custom.map((r) => [r.id ?? '', r.name, [...r.fields].sort(), [...r.roles].sort(), [...r.services].sort()]),
    });
    digest = createHash('sha256').update(canonical).digest('base64url');
    digests.set(rings, digest);
  }
  return `h:${digest}`;
}

const grantKeys = new WeakMap<Grant, string>();

function grantKey(grant: Grant | undefined): string {
  if (!grant) return '-';
  let key = grantKeys.get(grant);
  if (key === undefined) {
    key = `${grant.breakTheGlass ? '!' : ''}${[...new Set(grant.scopes)].sort().join(' ')}`;
    // Grants are treated as immutable once they reach the engine, as their scopes are.
    grantKeys.set(grant, key);
  }
  return key;
}

/** Answers every "who may see what" question from one loaded policy; see policies/README.md for the rules. */
export class PolicyEngine {
  #policies: Policies;
  readonly #max: number;
  readonly #cache = new Map<string, Compiled>();
  readonly #byUser = new Map<string, Set<string>>();
  #hits = 0;
  #misses = 0;

  constructor(policies: Policies, options: EngineOptions = {}) {
    this.#policies = policies;
    this.#max = options.maxEntries ?? 10_000;
  }

  get policies(): Policies {
    return this.#policies;
  }

  get revision(): string {
    return this.#policies.revision;
  }

  /** Switches to another policy revision; every cached ability is dropped. */
  reload(policies: Policies): void {
    this.#policies = policies;
    this.clearCache();
  }

  clearCache(): void {
    this.#cache.clear();
    this.#byUser.clear();
  }

  /** Drops every cached ability built from this person's settings (their rings changed elsewhere). */
  invalidateUser(userId: string): void {
    for (const key of this.#byUser.get(userId) ?? []) this.#cache.delete(key);
    this.#byUser.delete(userId);
  }

  cacheStats(): { entries: number; hits: number; misses: number } {
    return { entries: this.#cache.size, hits: this.#hits, misses: this.#misses };
  }

  /** The CASL ability of one reader over one person's profile, built or taken from the cache. */
  abilityFor(reader: Reader, rings: UserRings = NO_USER_RINGS, grant?: Grant): Compiled {
    const effectiveGrant = reader.kind === 'service' ? (grant ?? { scopes: [] }) : reader.kind === 'role' ? grant : undefined;
    const key = `${this.#policies.revision}|${readerKey(reader)}${reader.kind === 'service' ? `@${reader.role}` : ''}|${ringsKey(rings)}|${grantKey(effectiveGrant)}`;
    const hit = this.#cache.get(key);
    if (hit) {
      this.#hits++;
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    this.#misses++;
    const compiled = this.#compile(key, reader, rings, effectiveGrant);
    this.#cache.set(key, compiled);
    if (rings.userId !== undefined) {
      let keys = this.#byUser.get(rings.userId);
      if (!keys) this.#byUser.set(rings.userId, (keys = new Set()));
      keys.add(key);
    }
    while (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    return compiled;
  }

  #compile(key: string, reader: Reader, rings: UserRings, grant: Grant | undefined): Compiled {
    const policies = this.#policies;
    const evaluation = new Evaluation(policies, reader, rings, grant);
    const ability = createMongoAbility<Ability>(evaluation.rules());
    // Every rule lists concrete leaves (patterns were expanded at load), so permittedFieldsOf cannot leak a
    // field a pattern denies.
    const permitted = permittedFieldsOf(ability, ACTION, SUBJECT, { fieldsFrom: (rule) => rule.fields ?? (policies.leaves as string[]) });
    // Decisions are cached and shared between requests: nothing may change them.
    const decision = new Decision(policies, readerKey(reader), frozenSet(permitted));
    return Object.freeze({ key, ability, decision });
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
    const claims: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(projected)) {
      const claim = this.#policies.fields.get(name)?.claim;
      if (claim) claims[claim] = value;
    }
    return claims;
  }

  /** Why `path` is or is not readable: every layer, the deciding rule and the revision, from the same code. */
  explain(reader: Reader, path: string, rings: UserRings = NO_USER_RINGS, grant?: Grant): Explanation {
    const policies = this.#policies;
    const leaves = leavesOf(policies, path);
    if (leaves.length === 0) throw new UnknownField(path);
    const compiled = this.abilityFor(reader, rings, grant);
    const effectiveGrant = reader.kind === 'service' ? (grant ?? { scopes: [] }) : reader.kind === 'role' ? grant : undefined;
    const evaluation = new Evaluation(policies, reader, rings, effectiveGrant);
    const out = leaves.map((leaf) => this.#explainLeaf(evaluation, compiled.ability, leaf));
    const allowed = out.filter((l) => l.allowed).length;
    return {
      revision: policies.revision,
      reader: readerKey(reader),
      field: path,
      verdict: allowed === out.length ? 'allow' : allowed === 0 ? 'deny' : 'partial',
      leaves: out,
    };
  }

  #explainLeaf(ev: Evaluation, ability: Ability, leaf: string): LeafExplanation {
    const policies = this.#policies;
    const allowed = ability.can(ACTION, SUBJECT, leaf);
    const decidedBy = ability.relevantRuleFor(ACTION, SUBJECT, leaf)?.reason ?? 'default-deny';
    const field = policies.fields.get(policies.leafField.get(leaf)!)!;
    const layers: ExplainLayer[] = [];
    const verdict = (expected: boolean) => {
      if (expected !== allowed) throw new Error(`policy engine inconsistency on ${leaf} for ${readerKey(ev.reader)}: gates say ${expected}, ability says ${allowed}`);
      layers.push({ layer: 'verdict', outcome: allowed ? 'pass' : 'fail', detail: `${allowed ? 'ALLOW' : 'DENY'} (decided by ${describeDecider(ev.role, decidedBy)}; policy revision ${policies.revision})` });
      return { leaf, allowed, decidedBy, layers };
    };
    if (ev.reader.kind === 'owner') {
      layers.push({ layer: 'reader', outcome: 'pass', detail: 'the owner sees every field of their own profile, restricted included' });
      return verdict(true);
    }
    const role = ev.role;
    if (!role) {
      layers.push({ layer: 'reader', outcome: 'fail', detail: `role ${(ev.reader as { role: string }).role} is not defined in policies/roles/: nothing is readable` });
      return verdict(false);
    }
    layers.push({ layer: 'reader', outcome: 'pass', detail: `${readerKey(ev.reader)} is judged by role ${role.name} (${role.file})` });
    layers.push({ layer: 'ring', outcome: 'n/a', detail: `${field.name} is classified ${field.ring} (its default ring)`, source: field.source });

    const ceiling = ev.ceilingFor(leaf);
    const within = ev.withinCeiling(leaf);
    layers.push({
      layer: 'ceiling',
      outcome: ev.reader.kind === 'public' ? 'n/a' : within ? 'pass' : 'fail',
      detail: ev.reader.kind === 'public'
        ? `the public reads the ${ceiling.ring} ring whatever a field's classification: only the owner can put a field there`
        : within
        ? `${role.name}'s ${ceiling.breakTheGlass ? 'break-the-glass ' : ''}ceiling ${ceiling.ring} reaches ${field.ring}`
        : `${field.ring} is beyond ${role.name}'s ${ceiling.breakTheGlass ? 'break-the-glass ' : ''}ceiling ${ceiling.ring}; no user setting can widen a ceiling`,
      source: ceiling.source,
    });

    const placement = ev.placementOf(field.name);
    const admitted = ev.placementAdmits(leaf);
    let setting: string;
    if (placement.kind === 'ring') {
      setting = placement.moved ? `the person moved ${field.name} to ${placement.ring}` : `${field.name} is in its default ring ${placement.ring}`;
      setting += admitted ? `, within the ceiling ${ceiling.ring}` : placement.ring === policies.restrictedRing ? ', which only the owner (and break-the-glass) reaches' : `, beyond the ceiling ${ceiling.ring}`;
    } else if (placement.kind === 'custom') {
      const who = [...placement.ring.roles.map((r) => `role:${r}`), ...placement.ring.services.map((s) => `service:${s}`)].join(', ') || 'nobody else';
      setting = `the person put ${field.name} in custom ring "${placement.ring.name}", which admits ${who}`;
      if (ceiling.breakTheGlass) setting += '; break-the-glass is open';
      else setting += admitted ? '' : `, not ${readerKey(ev.reader)}`;
    } else {
      setting = `${field.name} is placed in unknown ring ${placement.ring}: hidden from everyone but the owner`;
    }
    layers.push({ layer: 'user setting', outcome: admitted ? 'pass' : 'fail', detail: setting });

    const allows = role.rules.filter((r) => r.effect === 'allow' && r.leaves.has(leaf));
    const denies = role.rules.filter((r) => r.effect === 'deny' && r.leaves.has(leaf));
    if (denies.length > 0) {
      const d = denies[denies.length - 1];
      layers.push({ layer: 'rules', outcome: 'fail', detail: `deny ${matchingPatterns(d, leaf)} — ${d.reason ?? 'no reason given'}`, source: d.source });
    } else if (allows.length > 0) {
      const a = allows[allows.length - 1];
      layers.push({ layer: 'rules', outcome: 'pass', detail: `allow ${matchingPatterns(a, leaf)}${a.reason ? ` — ${a.reason}` : ''}`, source: a.source });
    } else {
      layers.push({ layer: 'rules', outcome: 'fail', detail: `no rule of ${role.name} allows ${leaf}: deny unless allowed`, source: { file: role.file, line: role.rules[0]?.source.line ?? 1 } });
    }

    const covers = ev.scopeCovers(leaf);
    if (!ev.scopesApplied) {
      layers.push({ layer: 'scope', outcome: 'n/a', detail: ev.reader.kind === 'public' ? 'the public needs no grant' : `no grant given: the reach of any ${role.name} service granted every scope` });
    } else {
      const scopes = ev.grant?.scopes ?? [];
      layers.push({
        layer: 'scope',
        outcome: covers ? 'pass' : 'fail',
        detail: covers
          ? `granted scope ${ev.scopesCovering(leaf).join(', ')} covers it`
          : scopes.length === 0
            ? 'no scope granted'
            : `granted scopes (${scopes.join(' ')}) do not cover it`,
      });
    }
    return verdict(within && admitted && covers && allows.length > 0 && denies.length === 0);
  }

  /** For each reader — the public, every role, every service with a grant — what it sees now and why not the rest. */
  visibility(rings: UserRings, services: readonly { clientId: string; role: string; grant: Grant }[] = []): Visibility {
    const readers: { reader: Reader; grant?: Grant }[] = [{ reader: { kind: 'public' } }];
    for (const role of this.#policies.roles.keys()) if (role !== 'public') readers.push({ reader: { kind: 'role', role } });
    for (const s of services) readers.push({ reader: { kind: 'service', clientId: s.clientId, role: s.role }, grant: s.grant });
    return {
      policy_revision: this.#policies.revision,
      readers: readers.map(({ reader, grant }) => {
        const decision = this.decide(reader, rings, grant);
        return { reader: readerKey(reader), fields: decision.fields, withheld: this.#withheld(reader, rings, grant, decision) };
      }),
    };
  }

  #withheld(reader: Reader, rings: UserRings, grant: Grant | undefined, decision: Decision): Withheld[] {
    const out: Withheld[] = [];
    for (const def of this.#policies.fields.values()) {
      const hidden = def.leaves.filter((l) => !decision.leaves.has(l));
      if (hidden.length === 0) continue;
      const explained = this.explain(reader, def.name, rings, grant).leaves.filter((l) => !l.allowed);
      const first = (l: LeafExplanation) => l.layers.find((x) => x.outcome === 'fail')!;
      const same = explained.every((l) => first(l).detail === first(explained[0]).detail);
      const entries = same && hidden.length === def.leaves.length ? [{ field: def.name, l: explained[0] }] : explained.map((l) => ({ field: l.leaf, l }));
      for (const { field, l } of entries) out.push({ field, layer: first(l).layer, reason: first(l).detail });
    }
    return out;
  }

  /**
   * What a person's settings ask for but cannot get: custom rings admitting a role (or a service of a known role)
   * to fields outside its ceiling or rules, and fields moved to a ring more open than their classification.
   */
  capped(rings: UserRings, serviceRoles: ReadonlyMap<string, string> = new Map()): Capped[] {
    const policies = this.#policies;
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
          const leaves = this.explain({ kind: 'role', role }, field, rings).leaves;
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
}

function matchingPatterns(rule: RuleDef, leaf: string): string {
  return rule.patterns.filter((p) => patternMatches(p, leaf)).join(', ');
}

function describeDecider(role: RoleDef | undefined, decidedBy: string): string {
  const [kind, index] = decidedBy.split(':');
  const rule = index !== undefined ? role?.rules[Number(index)] : undefined;
  switch (kind) {
    case 'owner':
      return 'owner';
    case 'allow':
    case 'deny':
      return `${kind} rule ${Number(index) + 1} of ${role?.name} at ${rule?.source.file}:${rule?.source.line}`;
    case 'ceiling':
      return 'the ceiling';
    case 'placement':
      return "the person's ring setting";
    case 'scope':
      return 'the granted scopes';
    default:
      return 'no allow rule: deny unless allowed';
  }
}
