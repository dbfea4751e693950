/**
 * Hook for the policy micro-benchmark, bench/policy.ts (a teammate's): decision cost for 20 and 200 fields, 0 and 20
 * custom rings, cached and cold. It runs in its own process, `node bench/policy.ts --json [--quick]`, and its
 * stdout is read as JSON (the whole output, else its last line): either an array of rows or `{ "cases": [...] }`,
 * each row like
 *
 *   { "scenario": "cached: decide", "customRings": 20, "p50_us": 1.2, "p99_us": 3.4, "mean_us": 1.5 }
 *
 * (`name` for `scenario`, `p99Us`/`p50Us`/`custom_rings`/`fields`/`cached`/`opsPerSec` are read too; a row is
 * cached when `cached` says so or its name starts with "cached", and its catalogue has 200 fields unless `fields`
 * says otherwise). The target — cached decision p99 < 50 µs for 200 fields — is judged on the slowest
 * "cached: decide" row (the decision itself), or on the slowest cached row when there is none by that name.
 * Until the file exists, the scenario is "not available".
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { NODE, ROOT, baseEnv, spawnRegistered } from '../lib/processes.ts';
import { Unavailable, type Scenario } from '../lib/scenario.ts';
import { judge, notMeasured } from '../lib/targets.ts';

const SCRIPT = path.join(ROOT, 'bench/policy.ts');
const TIMEOUT_MS = 5 * 60_000;

interface PolicyCase {
  name: string;
  cached: boolean;
  fields: number;
  customRings?: number;
  p50Us?: number;
  p99Us?: number;
  meanUs?: number;
  opsPerSec?: number;
}

/** The catalogue size of bench/policy.ts's synthetic policy set, for rows that do not say. */
const DEFAULT_FIELDS = 200;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function normalize(raw: Record<string, unknown>): PolicyCase {
  const customRings = num(raw.customRings ?? raw.custom_rings);
  const fields = num(raw.fields);
  const base = String(raw.scenario ?? raw.name ?? '');
  return {
    name: [base, fields === undefined ? undefined : `${fields} fields`, customRings === undefined ? undefined : `${customRings} custom rings`]
      .filter(Boolean)
      .join(', '),
    cached: typeof raw.cached === 'boolean' ? raw.cached : /^cached/i.test(base),
    fields: fields ?? DEFAULT_FIELDS,
    customRings,
    p50Us: num(raw.p50Us ?? raw.p50_us),
    p99Us: num(raw.p99Us ?? raw.p99_us),
    meanUs: num(raw.meanUs ?? raw.mean_us),
    opsPerSec: num(raw.opsPerSec ?? raw.ops_per_sec),
  };
}

/** The rows of the script's output, or undefined when it printed none. */
function parseRows(stdout: string): Record<string, unknown>[] | undefined {
  const candidates = [
    stdout.trim(),
    stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => /^\s*[[{]/.test(l)) ?? '',
  ];
  for (const text of candidates) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed)) return parsed as Record<string, unknown>[];
      const cases = (parsed as { cases?: unknown }).cases;
      if (Array.isArray(cases)) return cases as Record<string, unknown>[];
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

export const policy: Scenario = {
  name: 'policy',
  title: 'Policy decision (micro-benchmark)',
  description: 'bench/policy.ts in its own process: decision cost over 20- and 200-field catalogues, 0 and 20 custom rings, cached and cold.',
  async run(ctx) {
    if (!existsSync(SCRIPT)) throw new Unavailable('bench/policy.ts (the policy micro-benchmark) is not in the tree yet');
    const args = [SCRIPT, '--json', ...(ctx.profile.quick ? ['--quick'] : [])];
    let stdout = '';
    let stderr = '';
    const { child, exited } = spawnRegistered(NODE, args, {
      cwd: ROOT,
      env: { ...baseEnv(), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    const { code, signal } = await exited;
    clearTimeout(killer);
    if (code !== 0) throw new Error(`bench/policy.ts ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim().slice(-1500)}`);

    const rows = parseRows(stdout);
    if (!rows) {
      return {
        notes: ['bench/policy.ts ran but printed no JSON rows; its output is kept in the JSON results.'],
        targets: [notMeasured('policy-cached-p99', 'bench/policy.ts printed no JSON rows')],
        extra: { output: stdout.slice(-4000) },
      };
    }
    const cases = rows.map(normalize);
    const cached200 = cases.filter((c) => c.cached && c.fields === 200 && c.p99Us !== undefined);
    const decisions = cached200.filter((c) => /^cached: decide,/.test(c.name));
    ctx.log(
      `  policy: cached decision p99 ${cases
        .filter((c) => /^cached: decide,/.test(c.name))
        .map((c) => `${c.p99Us} µs (${c.fields} fields, ${c.customRings ?? 0} rings)`)
        .join(', ')}`,
    );
    const judged = decisions.length > 0 ? decisions : cached200;
    const worst = judged.reduce<PolicyCase | undefined>((w, c) => (!w || c.p99Us! > w.p99Us! ? c : w), undefined);
    ctx.log(`  policy: ${cases.length} cases${worst ? `, slowest cached 200-field p99 ${worst.p99Us} µs` : ''}`);
    return {
      targets: [
        worst
          ? judge('policy-cached-p99', worst.p99Us! < 50, `${worst.p99Us} µs (${worst.name})`)
          : notMeasured('policy-cached-p99', 'bench/policy.ts reported no cached 200-field case with p99Us'),
      ],
      extra: { cases },
    };
  },
};
