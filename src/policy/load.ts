/**
 * Loads policies/: the catalogue and rings, every role under roles/, the scope map, each checked against its JSON
 * Schema and then for meaning (patterns match catalogued fields, rings exist, rules stay inside the ceiling).
 * A bad file throws a PolicyError naming file, line and reason, so the server refuses to start on it. The result
 * is frozen and carries `revision`, a content hash of the files read, recorded with every decision.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { leafPaths, POLICIES_DIR, readCatalogue, type Catalogue, type FieldDef, type RingDef } from './catalogue.ts';
import { expandPattern, expandPatterns } from './patterns.ts';
import { PolicyError, type PolicyProblem, type Source } from './problems.ts';
import { openChecked, PolicySchemas, SCHEMA } from './schemas.ts';
import { fsPolicySet, type PolicySet } from './sources.ts';
import type { YamlFile } from './yaml.ts';

interface FieldInfo extends FieldDef {
  /** The paths decisions are made on: its properties, or the field itself. */
  leaves: readonly string[];
  /** Rank of its default ring: a role sees it only if its ceiling is at least this closed. */
  classification: number;
}

export interface RuleDef {
  /** Position in the role's `rules`, from 0. */
  index: number;
  effect: 'allow' | 'deny';
  patterns: readonly string[];
  /** The catalogue leaves the patterns cover, expanded once at load. */
  leaves: ReadonlySet<string>;
  reason: string | undefined;
  source: Source;
}

interface BreakTheGlass {
  ceiling: string;
  ceilingRank: number;
  patterns: readonly string[];
  leaves: ReadonlySet<string>;
  description: string;
  source: Source;
}

export interface RoleDef {
  name: string;
  description: string;
  owner: string;
  ceiling: string;
  ceilingRank: number;
  ceilingSource: Source;
  file: string;
  rules: readonly RuleDef[];
  breakTheGlass: BreakTheGlass | undefined;
}

interface ScopeDef {
  name: string;
  description: string;
  claims: readonly string[];
  patterns: readonly string[];
  /** Leaves covered through claims or patterns. */
  leaves: ReadonlySet<string>;
  source: Source;
}

export interface Policies {
  /** sha256 of every file read (path and content), hex: which policy a decision was made under. */
  revision: string;
  /** Where the files came from: a directory, or `<ref>:policies`. */
  origin: string;
  catalogue: Catalogue;
  fields: ReadonlyMap<string, FieldInfo>;
  /** Every leaf path, in catalogue order. */
  leaves: readonly string[];
  leafField: ReadonlyMap<string, string>;
  rings: readonly RingDef[];
  ringRank: ReadonlyMap<string, number>;
  /** The ring reached only by the owner and break-the-glass: the last one. */
  restrictedRing: string;
  roles: ReadonlyMap<string, RoleDef>;
  scopes: ReadonlyMap<string, ScopeDef>;
  /** Default rings that `ring:<name>` scopes may name. */
  ringScopes: ReadonlySet<string>;
  ringScopesSource: Source;
  /** The files' JSON Schemas, also used for user ring files and test cases. */
  schemas: PolicySchemas;
  /** Legal but suspicious statements, for `policy validate`. */
  warnings: readonly PolicyProblem[];
}

interface RoleFile {
  version: 1;
  role: string;
  description: string;
  owner: string;
  ceiling: string;
  rules: ({ allow: string[]; reason?: string } | { deny: string[]; reason?: string })[];
  break_the_glass?: { ceiling: string; fields: string[]; description: string };
}

interface ScopesFile {
  version: 1;
  scopes: Record<string, { description: string; claims?: string[]; fields?: string[] }>;
  ring_scopes: { description: string; rings: string[] };
}

/** A Map whose mutators throw: Object.freeze does not reach a Map's entries. */
function frozenMap<K, V>(entries: Iterable<[K, V]>): ReadonlyMap<K, V> {
  const map = new Map(entries);
  const refuse = () => {
    throw new TypeError('policies are read-only');
  };
  Object.defineProperties(map, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(map);
}

/** A Set whose mutators throw, for values shared between requests. */
export function frozenSet<T>(items: Iterable<T>): ReadonlySet<T> {
  const set = new Set(items);
  const refuse = () => {
    throw new TypeError('policies are read-only');
  };
  Object.defineProperties(set, { add: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(set);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function loadRole(
  yaml: YamlFile,
  stem: string,
  catalogue: { leaves: readonly string[]; leafClass: ReadonlyMap<string, number>; ringRank: ReadonlyMap<string, number>; rings: readonly RingDef[] },
  problems: PolicyProblem[],
  warnings: PolicyProblem[],
): RoleDef | undefined {
  const file = yaml.data as RoleFile;
  const before = problems.length;
  const ringList = catalogue.rings.map((r) => r.name).join(', ');
  const restricted = catalogue.rings.length - 1;
  if (file.role !== stem)
    problems.push(yaml.problem(['role'], `role ${file.role} must be defined in roles/${file.role}.yaml, not in roles/${stem}.yaml`));
  const ceilingRank = catalogue.ringRank.get(file.ceiling);
  if (ceilingRank === undefined) {
    problems.push(yaml.problem(['ceiling'], `ceiling ${file.ceiling} is not a ring (${ringList})`));
  } else if (ceilingRank === restricted) {
    problems.push(yaml.problem(['ceiling'], `ceiling ${file.ceiling} is reached only by the owner and by break-the-glass; choose a more open ring`));
  }
  if (file.role === 'public' && ceilingRank !== undefined && ceilingRank !== 0) {
    problems.push(
      yaml.problem(['ceiling'], `the public reads the ${catalogue.rings[0].name} ring only: its ceiling must be ${catalogue.rings[0].name}`),
    );
  }
  const ceiling = ceilingRank ?? -1;
  const name = (leaf: string) => `${leaf} (${catalogue.rings[catalogue.leafClass.get(leaf)!]?.name})`;

  const rules: RuleDef[] = file.rules.map((raw, index) => {
    const effect = 'allow' in raw ? 'allow' : 'deny';
    const patterns = 'allow' in raw ? raw.allow : raw.deny;
    const leaves = new Set<string>();
    patterns.forEach((pattern, i) => {
      const matched = expandPattern(pattern, catalogue.leaves);
      if (matched.length === 0) {
        problems.push(yaml.problem(['rules', index, effect, i], `${effect} ${pattern}: matches no catalogued field`));
        return;
      }
      // An allow beyond the ceiling can never take effect: reviewers would read a permission that does not exist.
      const inside = matched.filter((leaf) => catalogue.leafClass.get(leaf)! <= ceiling);
      if (effect === 'allow' && ceilingRank !== undefined && file.role !== 'public' && inside.length === 0) {
        problems.push(
          yaml.problem(
            ['rules', index, effect, i],
            `allow ${pattern}: outside the ceiling ${file.ceiling}: ${matched.map(name).join(', ')} ${matched.length > 1 ? 'are' : 'is'} classified more closed, so this rule can never take effect`,
          ),
        );
      } else if (
        effect === 'allow' &&
        ceilingRank !== undefined &&
        file.role !== 'public' &&
        !pattern.includes('*') &&
        inside.length < matched.length
      ) {
        warnings.push(
          yaml.problem(
            ['rules', index, effect, i],
            `allow ${pattern}: ${matched
              .filter((l) => !inside.includes(l))
              .map(name)
              .join(', ')} stay outside the ceiling ${file.ceiling}`,
          ),
        );
      }
      for (const leaf of matched) leaves.add(leaf);
    });
    return deepFreeze({
      index,
      effect,
      patterns: [...patterns],
      leaves: frozenSet(catalogue.leaves.filter((l) => leaves.has(l))),
      reason: raw.reason,
      source: yaml.source(['rules', index]),
    });
  });
  if (!rules.some((r) => r.effect === 'allow')) {
    warnings.push(yaml.problem(['rules'], `role ${file.role} has no allow rule: it can see nothing`));
  }

  let breakTheGlass: BreakTheGlass | undefined;
  if (file.break_the_glass) {
    const btg = file.break_the_glass;
    const rank = catalogue.ringRank.get(btg.ceiling);
    if (rank === undefined) problems.push(yaml.problem(['break_the_glass', 'ceiling'], `ceiling ${btg.ceiling} is not a ring (${ringList})`));
    else if (rank < ceiling)
      problems.push(
        yaml.problem(['break_the_glass', 'ceiling'], `break-the-glass ceiling ${btg.ceiling} is more open than the role's ceiling ${file.ceiling}`),
      );
    const allowed = new Set(rules.filter((r) => r.effect === 'allow').flatMap((r) => [...r.leaves]));
    btg.fields.forEach((pattern, i) => {
      const matched = expandPattern(pattern, catalogue.leaves);
      if (matched.length === 0) problems.push(yaml.problem(['break_the_glass', 'fields', i], `${pattern}: matches no catalogued field`));
      else if (!matched.some((l) => allowed.has(l))) {
        problems.push(
          yaml.problem(
            ['break_the_glass', 'fields', i],
            `${pattern}: no allow rule of ${file.role} covers it, so break-the-glass could never release it`,
          ),
        );
      }
    });
    breakTheGlass = deepFreeze({
      ceiling: btg.ceiling,
      ceilingRank: rank ?? -1,
      patterns: [...btg.fields],
      leaves: frozenSet(expandPatterns(btg.fields, catalogue.leaves)),
      description: btg.description,
      source: yaml.source(['break_the_glass']),
    });
  }
  if (problems.length > before) return undefined;
  return deepFreeze({
    name: file.role,
    description: file.description,
    owner: file.owner,
    ceiling: file.ceiling,
    ceilingRank: ceiling,
    ceilingSource: yaml.source(['ceiling']),
    file: yaml.file,
    rules,
    breakTheGlass,
  });
}

/** Compiles a policy set; throws a PolicyError listing every problem with its file and line. */
export function compilePolicies(set: PolicySet, origin = set.label('').replace(/\/$/, '')): Policies {
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];
  const { schemas, problems: schemaProblems } = PolicySchemas.fromSet(set);
  if (!schemas) throw new PolicyError(schemaProblems);

  const { catalogue, problems: catalogueProblems } = readCatalogue(set, schemas);
  if (!catalogue) throw new PolicyError(catalogueProblems);

  const fields = new Map<string, FieldInfo>();
  const leaves: string[] = [];
  const leafField = new Map<string, string>();
  const leafClass = new Map<string, number>();
  const ringRank = new Map(catalogue.rings.map((r) => [r.name, r.rank]));
  for (const def of catalogue.fields.values()) {
    const own = leafPaths(def);
    const classification = ringRank.get(def.ring)!;
    fields.set(def.name, deepFreeze({ ...def, leaves: own, classification }));
    for (const leaf of own) {
      leaves.push(leaf);
      leafField.set(leaf, def.name);
      leafClass.set(leaf, classification);
    }
  }
  const ctx = { leaves, leafClass, ringRank, rings: catalogue.rings };

  const roles = new Map<string, RoleDef>();
  const roleFiles = set.list('roles').filter((f) => /\.ya?ml$/.test(f));
  for (const name of roleFiles) {
    const yaml = openChecked(set, schemas, `roles/${name}`, SCHEMA.role, problems);
    if (!yaml) continue;
    const role = loadRole(yaml, name.replace(/\.ya?ml$/, ''), ctx, problems, warnings);
    if (role) {
      if (roles.has(role.name)) problems.push(yaml.problem(['role'], `role ${role.name} is defined twice`));
      roles.set(role.name, role);
    }
  }
  if (roleFiles.length === 0) problems.push({ file: set.label('roles/'), message: 'no role files: every reader but the owner needs a role' });
  else if (!roleFiles.some((f) => /^public\.ya?ml$/.test(f)))
    problems.push({ file: set.label('roles/public.yaml'), message: 'the public role is missing: anonymous readers are judged by it' });

  const scopes = new Map<string, ScopeDef>();
  const ringScopes = new Set<string>();
  let ringScopesSource: Source = { file: set.label('scopes.yaml'), line: 1 };
  const scopesYaml = openChecked(set, schemas, 'scopes.yaml', SCHEMA.scopes, problems);
  if (scopesYaml) {
    const file = scopesYaml.data as ScopesFile;
    const claimLeaves = new Map<string, readonly string[]>();
    for (const def of fields.values()) if (def.claim) claimLeaves.set(def.claim, def.leaves);
    for (const [name, def] of Object.entries(file.scopes)) {
      const covered = new Set<string>();
      (def.claims ?? []).forEach((claim, i) => {
        const own = claimLeaves.get(claim);
        if (!own)
          problems.push(scopesYaml.problem(['scopes', name, 'claims', i], `scope ${name}: claim ${claim} is not released by any catalogued field`));
        else for (const l of own) covered.add(l);
      });
      (def.fields ?? []).forEach((pattern, i) => {
        const matched = expandPattern(pattern, leaves);
        if (matched.length === 0)
          problems.push(scopesYaml.problem(['scopes', name, 'fields', i], `scope ${name}: ${pattern} matches no catalogued field`));
        for (const l of matched) covered.add(l);
      });
      scopes.set(
        name,
        deepFreeze({
          name,
          description: def.description,
          claims: [...(def.claims ?? [])],
          patterns: [...(def.fields ?? [])],
          leaves: frozenSet(leaves.filter((l) => covered.has(l))),
          source: scopesYaml.source(['scopes', name], { key: true }),
        }),
      );
    }
    file.ring_scopes.rings.forEach((ring, i) => {
      const rank = ringRank.get(ring);
      if (rank === undefined)
        problems.push(scopesYaml.problem(['ring_scopes', 'rings', i], `ring ${ring} is not a ring (${[...ringRank.keys()].join(', ')})`));
      else if (rank === catalogue.rings.length - 1)
        problems.push(scopesYaml.problem(['ring_scopes', 'rings', i], `ring:${ring} cannot be a scope: that ring is never released through a grant`));
      else ringScopes.add(ring);
    });
    ringScopesSource = scopesYaml.source(['ring_scopes']);
  }

  if (problems.length > 0) throw new PolicyError(problems);

  const hash = createHash('sha256');
  const read = [
    'fields.yaml',
    'rings.yaml',
    'scopes.yaml',
    ...roleFiles.map((f) => `roles/${f}`),
    ...set.list('schema').map((f) => `schema/${f}`),
  ].sort();
  for (const rel of read) hash.update(`${rel}\0${set.read(rel) ?? ''}\0`);

  return Object.freeze({
    revision: hash.digest('hex'),
    origin,
    catalogue: Object.freeze({
      fields: frozenMap([...catalogue.fields].map(([k, v]) => [k, deepFreeze(v)])),
      rings: deepFreeze([...catalogue.rings]),
    }),
    fields: frozenMap(fields),
    leaves: Object.freeze(leaves),
    leafField: frozenMap(leafField),
    rings: deepFreeze([...catalogue.rings]),
    ringRank: frozenMap(ringRank),
    restrictedRing: catalogue.rings[catalogue.rings.length - 1].name,
    roles: frozenMap([...roles.entries()].sort(([a], [b]) => a.localeCompare(b))),
    scopes: frozenMap(scopes),
    ringScopes: frozenSet(ringScopes),
    ringScopesSource,
    schemas,
    warnings: Object.freeze(warnings),
  });
}

/** Loads and checks policies/ (or `dir`); throws a PolicyError naming file, line and reason on a bad file. */
export function loadPolicies(dir: string = POLICIES_DIR): Policies {
  return compilePolicies(fsPolicySet(path.resolve(dir)));
}
