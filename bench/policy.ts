/**
 * Micro-benchmark of one access decision: a synthetic catalogue of 20 or 200 fields, a person with 0 or 20 custom
 * rings, a commercial service with a five-scope grant. "cached" is a request whose ability is in the cache
 * (target: p99 under 50 µs for 200 fields); "cold" builds the ability (new rings version). Run:
 * `node bench/policy.ts [--json]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { POLICIES_DIR } from '../src/policy/catalogue.ts';
import { PolicyEngine, type Grant, type Reader, type UserRings } from '../src/policy/engine.ts';
import { memoryPolicySet } from '../src/policy/sources.ts';
import { compilePolicies, type Policies } from '../src/policy/load.ts';

const FIELD_COUNTS = [20, 200];
const RINGS = ['public', 'semi-private', 'private', 'restricted'];
const TARGET_P99_US = 50;

/** A policy set shaped like the real one, with `FIELDS` fields (every tenth structured) and scopes over them. */
function syntheticPolicies(FIELDS: number): Policies {
  const files: Record<string, string> = {};
  for (const f of readdirSync(path.join(POLICIES_DIR, 'schema'))) files[`schema/${f}`] = readFileSync(path.join(POLICIES_DIR, 'schema', f), 'utf8');
  files['rings.yaml'] = readFileSync(path.join(POLICIES_DIR, 'rings.yaml'), 'utf8');
  const fields = ['version: 1', 'fields:'];
  for (let i = 0; i < FIELDS; i++) {
    const name = `f${String(i).padStart(3, '0')}`;
    fields.push(
      `  ${name}:`,
      `    type: ${i % 10 === 0 ? 'address' : 'string'}`,
      `    ring: ${RINGS[i % 4]}`,
      `    description: synthetic field ${i}`,
    );
    if (i % 10 === 0) fields.push('    properties:', ...['a', 'b', 'c', 'd'].map((p) => `      ${p}: { type: string }`));
    if (i % 7 === 0) fields.push(`    claim: claim_${i}`);
  }
  files['fields.yaml'] = `${fields.join('\n')}\n`;
  const role = (name: string, ceiling: string, rules: string[]) =>
    `${[`version: 1`, `role: ${name}`, `description: synthetic`, `owner: bench`, `ceiling: ${ceiling}`, 'rules:', ...rules].join('\n')}\n`;
  files['roles/public.yaml'] = role('public', 'public', ["  - allow: ['*']"]);
  // Patterns that match in both catalogue sizes (a pattern matching no field is a policy error).
  files['roles/commercial.yaml'] = role('commercial', 'semi-private', ["  - allow: ['*']", "  - deny: ['f01*', 'f00*.a']", "  - deny: ['*5']"]);
  files['roles/government.yaml'] = role('government', 'private', ["  - allow: ['f00*', 'f01*']", "  - deny: ['*9']"]);
  const scopes = ['version: 1', 'scopes:'];
  for (let s = 0; s < 10; s++) scopes.push(`  s${s}:`, `    description: synthetic scope ${s}`, `    fields: ['*${s}']`);
  scopes.push(
    '  claims:',
    '    description: every claim',
    `    claims: [${Array.from({ length: FIELDS }, (_, i) => i)
      .filter((i) => i % 7 === 0)
      .map((i) => `claim_${i}`)
      .join(', ')}]`,
  );
  scopes.push('ring_scopes:', '  description: synthetic', '  rings: [public, semi-private, private]');
  files['scopes.yaml'] = `${scopes.join('\n')}\n`;
  return compilePolicies(memoryPolicySet(files, 'bench'));
}

function userRings(policies: Policies, custom: number, version: number): UserRings {
  const names = [...policies.fields.keys()];
  const placements: Record<string, string> = {};
  for (let i = 0; i < names.length; i += 9) placements[names[i]] = RINGS[(i / 9) % 4];
  return {
    userId: 'bench-user',
    version,
    placements,
    custom: Array.from({ length: custom }, (_, r) => ({
      id: `r${r}`,
      name: `ring ${r}`,
      fields: names.filter((_, i) => i % 40 === r),
      roles: r % 2 === 0 ? ['commercial'] : ['government'],
      services: r % 3 === 0 ? ['shop-1'] : [],
    })),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function measure(iterations: number, fn: (i: number) => void): { p50: number; p99: number; mean: number } {
  for (let i = 0; i < Math.min(iterations, 1000); i++) fn(-1 - i); // warm the JIT, not the cache
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const mean = samples.reduce((a, b) => a + b, 0) / iterations;
  samples.sort();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean };
}

export interface BenchResult {
  scenario: string;
  fields: number;
  customRings: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
}

/** Runs every scenario; returns one row per scenario. */
export function runPolicyBench(iterations = 5000): BenchResult[] {
  const results: BenchResult[] = [];
  for (const fields of FIELD_COUNTS) results.push(...runCatalogue(fields, iterations));
  return results;
}

function runCatalogue(fields: number, iterations: number): BenchResult[] {
  const policies = syntheticPolicies(fields);
  const reader: Reader = { kind: 'service', clientId: 'shop-1', role: 'commercial' };
  const grant: Grant = { scopes: ['openid', 's1', 's3', 's5', 'claims', 'ring:semi-private'] };
  const profile = Object.fromEntries([...policies.fields.keys()].map((f) => [f, `value of ${f}`]));
  const results: BenchResult[] = [];
  for (const custom of [0, 20]) {
    const engine = new PolicyEngine(policies);
    const cachedRings = userRings(policies, custom, 1);
    engine.decide(reader, cachedRings, grant);
    const row = (scenario: string, m: { p50: number; p99: number; mean: number }) =>
      results.push({ scenario, fields, customRings: custom, p50_us: round(m.p50), p99_us: round(m.p99), mean_us: round(m.mean) });
    row(
      'cached: decide',
      measure(iterations, () => engine.decide(reader, cachedRings, grant)),
    );
    row(
      `cached: decide + project ${fields} fields`,
      measure(iterations, () => engine.decide(reader, cachedRings, grant).project(profile)),
    );
    row(
      `cached: can() per field x${fields}`,
      measure(Math.ceil(iterations / 10), () => {
        const { ability } = engine.abilityFor(reader, cachedRings, grant);
        for (const leaf of policies.leaves) ability.can('read', 'Profile', leaf);
      }),
    );
    // A new rings version per request: the settings changed, so the ability is rebuilt.
    row(
      'cold: build ability + decide',
      measure(Math.ceil(iterations / 10), (i) => engine.decide(reader, userRings(policies, custom, 1000 + i + (i < 0 ? 1e6 : 0)), grant)),
    );
  }
  return results;
}

function round(us: number): number {
  return Math.round(us * 10) / 10;
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const results = runPolicyBench();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    process.stdout.write(
      `policy decision, synthetic catalogues of ${FIELD_COUNTS.join(' and ')} fields, commercial service with a 6-scope grant (µs)\n`,
    );
    process.stdout.write(
      `${'scenario'.padEnd(38)} ${'fields'.padStart(7)} ${'custom rings'.padStart(12)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'mean'.padStart(9)}\n`,
    );
    for (const r of results) {
      process.stdout.write(
        `${r.scenario.padEnd(38)} ${String(r.fields).padStart(7)} ${String(r.customRings).padStart(12)} ${r.p50_us.toFixed(1).padStart(9)} ${r.p99_us.toFixed(1).padStart(9)} ${r.mean_us.toFixed(1).padStart(9)}\n`,
      );
    }
    const worst = Math.max(...results.filter((r) => r.scenario === 'cached: decide' && r.fields === 200).map((r) => r.p99_us));
    process.stdout.write(`target: cached decision p99 < ${TARGET_P99_US} µs — ${worst < TARGET_P99_US ? 'met' : 'MISSED'} (worst p99 ${worst} µs)\n`);
  }
}
