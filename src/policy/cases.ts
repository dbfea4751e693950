/**
 * Policy test cases (policies/tests/*.yaml): a reader, granted scopes, a person's ring settings and profile, and
 * the fields expected to be released. As in Cerbos tests, a field not listed under `allow` is expected to be
 * denied, so a policy change that releases something new fails a case until a reviewer writes it down.
 */
import type { PolicyEngine } from './engine.ts';
import { PolicyError, type PolicyProblem } from './problems.ts';
import { SCHEMA } from './schemas.ts';
import type { PolicySet } from './sources.ts';
import { parseYaml } from './yaml.ts';
import type { Grant } from './gates.ts';
import type { Policies } from './load.ts';
import { expandPatterns } from './patterns.ts';
import { NO_USER_RINGS, type UserRings } from './placements.ts';
import type { Reader } from './reader.ts';
import { checkUserRings, userRingsFromDocument, type UserRingsDocument } from './user-rings.ts';

interface CaseDocument {
  name: string;
  reader: string | { service: string; role: string };
  scopes?: string[];
  break_the_glass?: boolean;
  user_rings?: Pick<UserRingsDocument, 'placements' | 'custom_rings'>;
  profile?: Record<string, unknown>;
  expect: { allow: string[]; deny?: string[] };
}

interface TestsDocument {
  version: 1;
  description?: string;
  profile?: Record<string, unknown>;
  cases: CaseDocument[];
}

export interface PolicyCase {
  file: string;
  line: number;
  name: string;
  reader: Reader;
  grant: Grant | undefined;
  rings: UserRings;
  /** Leaves the profile holds a value for. */
  present: ReadonlySet<string>;
  allow: ReadonlySet<string>;
  deny: ReadonlySet<string>;
}

interface CaseResult {
  file: string;
  line: number;
  name: string;
  passed: boolean;
  /** Released but not expected. */
  unexpected: string[];
  /** Expected but withheld. */
  missing: string[];
  revision: string;
}

export interface TestReport {
  files: number;
  results: CaseResult[];
  passed: number;
  failed: number;
}

function toReader(r: CaseDocument['reader']): Reader {
  if (typeof r === 'object') return { kind: 'service', clientId: r.service, role: r.role };
  if (r === 'owner' || r === 'public') return { kind: r };
  return { kind: 'role', role: r.slice('role:'.length) };
}

function presentLeaves(policies: Policies, profile: Record<string, unknown> | undefined): Set<string> {
  if (!profile) return new Set(policies.leaves);
  const out = new Set<string>();
  for (const [name, value] of Object.entries(profile)) {
    const def = policies.fields.get(name);
    if (!def || value === null || value === undefined) continue;
    if (def.properties && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const leaf of def.leaves) if (leaf.slice(name.length + 1) in (value as object)) out.add(leaf);
    } else {
      for (const leaf of def.leaves) out.add(leaf);
    }
  }
  return out;
}

/** Reads and checks every case file; throws a PolicyError (file, line, reason) on a bad one. */
export function loadCases(policies: Policies, set: PolicySet): { files: number; cases: PolicyCase[] } {
  const problems: PolicyProblem[] = [];
  const cases: PolicyCase[] = [];
  const names = set.list('tests').filter((f) => /\.ya?ml$/.test(f));
  for (const name of names) {
    const rel = `tests/${name}`;
    const parsed = parseYaml(set.label(rel), set.read(rel) ?? '');
    problems.push(...parsed.problems);
    const yaml = parsed.yaml;
    if (!yaml) continue;
    const invalid = policies.schemas.check(SCHEMA.tests, yaml);
    problems.push(...invalid);
    if (invalid.length > 0) continue;
    const doc = yaml.data as TestsDocument;
    const checkProfile = (profile: Record<string, unknown> | undefined, at: (string | number)[]) => {
      for (const field of Object.keys(profile ?? {})) {
        if (!policies.fields.has(field)) problems.push(yaml.problem([...at, field], `profile: ${field} is not a catalogued field`, { key: true }));
      }
    };
    checkProfile(doc.profile, ['profile']);
    doc.cases.forEach((c, i) => {
      const at = ['cases', i];
      const before = problems.length;
      const reader = toReader(c.reader);
      if ((reader.kind === 'role' || reader.kind === 'service') && !policies.roles.has(reader.role)) {
        problems.push(yaml.problem([...at, 'reader'], `${c.name}: role ${reader.role} is not defined in roles/`));
      }
      if (c.user_rings)
        problems.push(...checkUserRings(policies, c.user_rings, (p, message, key) => yaml.problem(p, message, { key }), [...at, 'user_rings']));
      checkProfile(c.profile, [...at, 'profile']);
      const expand = (kind: 'allow' | 'deny') => {
        const patterns = c.expect[kind] ?? [];
        patterns.forEach((p, j) => {
          if (expandPatterns([p], policies.leaves).length === 0)
            problems.push(yaml.problem([...at, 'expect', kind, j], `${c.name}: ${p} matches no catalogued field`));
        });
        return new Set(expandPatterns(patterns, policies.leaves));
      };
      const allow = expand('allow');
      const deny = expand('deny');
      const both = [...allow].filter((l) => deny.has(l));
      if (both.length > 0) problems.push(yaml.problem([...at, 'expect'], `${c.name}: ${both.join(', ')} expected both allowed and denied`));
      if (c.break_the_glass && !c.scopes)
        problems.push(yaml.problem([...at, 'break_the_glass'], `${c.name}: break-the-glass needs the grant's scopes`));
      if (problems.length > before) return;
      cases.push({
        file: yaml.file,
        line: yaml.lineOf(at) ?? 1,
        name: c.name,
        reader,
        grant: c.scopes ? { scopes: c.scopes, ...(c.break_the_glass ? { breakTheGlass: true } : {}) } : undefined,
        rings: c.user_rings ? userRingsFromDocument(c.user_rings) : NO_USER_RINGS,
        present: presentLeaves(policies, c.profile ?? doc.profile),
        allow,
        deny,
      });
    });
  }
  if (problems.length > 0) throw new PolicyError(problems, 'invalid policy tests');
  return { files: names.length, cases };
}

/** Runs one case through the engine: released fields must be exactly the expected ones. */
function runCase(engine: PolicyEngine, c: PolicyCase): CaseResult {
  const decision = engine.decide(c.reader, c.rings, c.grant);
  const released = new Set([...c.present].filter((l) => decision.leaves.has(l)));
  const policies = engine.policies;
  const group = (leaves: Set<string>) => {
    const out: string[] = [];
    for (const def of policies.fields.values()) {
      const own = def.leaves.filter((l) => leaves.has(l));
      if (own.length > 0 && own.length === def.leaves.length) out.push(def.name);
      else out.push(...own);
    }
    return out;
  };
  const unexpected = group(new Set([...released].filter((l) => !c.allow.has(l))));
  const missing = group(new Set([...c.allow].filter((l) => !released.has(l))));
  return {
    file: c.file,
    line: c.line,
    name: c.name,
    passed: unexpected.length === 0 && missing.length === 0,
    unexpected,
    missing,
    revision: decision.revision,
  };
}

export function runPolicyTests(engine: PolicyEngine, set: PolicySet): TestReport {
  const { files, cases } = loadCases(engine.policies, set);
  const results = cases.map((c) => runCase(engine, c));
  const passed = results.filter((r) => r.passed).length;
  return { files, results, passed, failed: results.length - passed };
}
