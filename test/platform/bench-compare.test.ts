// The benchmark's regression guard (`npm run bench -- --compare <old.json> [new.json]`, bench/lib/regressions.ts):
// what got slower is what fell beyond the spread of the rounds of both runs, ratio by ratio, scenario by scenario.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { compareRuns, formatComparison, readRun, type RunJson } from '../../bench/lib/regressions.ts';
import type { TargetResult } from '../../bench/lib/scenario.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** min–max and median of a few rounds. */
const s = (min: number, median: number, max: number) => ({ min, median, max });

interface ScenarioSketch {
  name: string;
  status?: 'ok' | 'failed';
  ratios?: Record<string, ReturnType<typeof s>>;
  /** CPU µs per request of a subject, process and PostgreSQL, per round. */
  cpu?: Record<string, [number, number][]>;
}

/** A run's JSON with only what the comparison reads. */
function run(scenarios: ScenarioSketch[], targets: TargetResult[] = [], extra: Partial<RunJson> = {}): RunJson {
  return {
    startedAt: '2026-12-01T10:00:00.000Z',
    complete: true,
    quick: false,
    targets,
    scenarios: scenarios.map((sc) => ({
      name: sc.name,
      title: sc.name,
      description: '',
      status: sc.status ?? 'ok',
      seconds: 1,
      notes: [],
      targets: [],
      ratios: Object.entries(sc.ratios ?? {}).map(([name, rps]) => {
        const [of, to] = name.split(' / ');
        return { name, of, to, rps };
      }),
      variants: Object.entries(sc.cpu ?? {}).map(([name, rounds]) => ({
        name,
        label: name,
        role: 'subject' as const,
        process: 'service-main',
        rps: s(1, 1, 1),
        p50Ms: s(1, 1, 1),
        p99Ms: s(1, 1, 1),
        cpuUsPerRequest: s(1, 1, 1),
        pgCpuUsPerRequest: s(1, 1, 1),
        rssIdleKb: undefined,
        rssPeakKb: undefined,
        non2xx: 0,
        errors: 0,
        rounds: rounds.map(([target, postgres]) => ({
          rps: 1,
          total: 1,
          latencyMs: { p50: 1, p90: 1, p99: 1, mean: 1, max: 1 },
          autocannonLatencyMs: { p50: 1, p99: 1 },
          non2xx: 0,
          errors: 0,
          timeouts: 0,
          statusCodes: {},
          errorKinds: {},
          rssPeakKb: undefined,
          cpuUsPerRequest: { target, postgres },
        })),
      })),
    })),
    ...extra,
  };
}

const target = (status: TargetResult['status'], measured: string): TargetResult => ({
  id: 'authorized-read-vs-audited',
  description: 'authorized read ≥ 0.80 of the bare audited read',
  status,
  measured,
});

test('a ratio is slower only when every new round is below every old one, faster the other way round', (t) => {
  const old = run([{ name: 'authorized-read', ratios: { 'a / x': s(0.5, 0.55, 0.6), 'b / x': s(0.5, 0.55, 0.6), 'c / x': s(0.5, 0.55, 0.6) } }]);
  const now = run([{ name: 'authorized-read', ratios: { 'a / x': s(0.4, 0.45, 0.49), 'b / x': s(0.45, 0.5, 0.52), 'c / x': s(0.61, 0.7, 0.8) } }]);
  const { ratios } = compareRuns(old, now);
  t.deepEqual(
    ratios.map((r) => [r.ratio, r.verdict]),
    [
      ['a / x', 'slower'],
      ['b / x', 'within spread'],
      ['c / x', 'faster'],
    ],
  );
  t.deepEqual(ratios[0].old, s(0.5, 0.55, 0.6));
  t.deepEqual(ratios[0].new, s(0.4, 0.45, 0.49));
});

test('a lower median whose rounds overlap the old ones is within the spread, not slower', (t) => {
  const { ratios } = compareRuns(
    run([{ name: 'owner-read', ratios: { 'o / x': s(0.3, 0.5, 0.6) } }]),
    run([{ name: 'owner-read', ratios: { 'o / x': s(0.3, 0.35, 0.4) } }]),
  );
  t.is(ratios[0].verdict, 'within spread');
});

test('a subject that costs more CPU per request in every round is costlier; process and PostgreSQL are added round by round', (t) => {
  const old = run([
    {
      name: 'authorized-read',
      cpu: {
        'authorized-read': [
          [500, 300],
          [520, 310],
          [480, 330],
        ],
        other: [[100, 0]],
      },
    },
  ]);
  const now = run([
    {
      name: 'authorized-read',
      cpu: {
        'authorized-read': [
          [560, 300],
          [600, 290],
          [590, 320],
        ],
        other: [[90, 0]],
      },
    },
  ]);
  const { costs } = compareRuns(old, now);
  const subject = costs.find((c) => c.variant === 'authorized-read')!;
  t.is(subject.verdict, 'costlier');
  t.deepEqual(subject.old, s(800, 810, 830));
  t.deepEqual(subject.new, s(860, 890, 910));
  t.is(costs.find((c) => c.variant === 'other')!.verdict, 'cheaper');
});

test('a target met before and missed now is listed, and one met now is told too', (t) => {
  const lost = compareRuns(run([], [target('met', '0.82')]), run([], [target('not met', '0.71')]));
  t.deepEqual(lost.targetsLost, [
    { id: 'authorized-read-vs-audited', description: 'authorized read ≥ 0.80 of the bare audited read', old: '0.82', new: '0.71' },
  ]);
  t.deepEqual(lost.targetsGained, []);
  const gained = compareRuns(run([], [target('not met', '0.71')]), run([], [target('met', '0.82')]));
  t.is(gained.targetsGained.length, 1);
  t.deepEqual(gained.targetsLost, []);
});

test('a scenario measured in only one run is a caveat; a ratio new to a scenario both measured is a row of its own', (t) => {
  const old = run([
    { name: 'token-endpoint', ratios: { 'token / oidc-bare': s(0.8, 0.9, 1) } },
    { name: 'login', ratios: { 'login / x': s(1, 1, 1) } },
    { name: 'scale', status: 'failed' },
  ]);
  const now = run(
    [{ name: 'token-endpoint', ratios: { 'token / oidc-bare': s(0.8, 0.9, 1), 'token / oidc-memory': s(0.2, 0.25, 0.3) } }, { name: 'scale' }],
    [],
    {
      complete: false,
      quick: true,
    },
  );
  const c = compareRuns(old, now);
  t.deepEqual(
    c.ratios.map((r) => `${r.scenario}: ${r.ratio} ${r.verdict}`),
    ['token-endpoint: token / oidc-bare within spread', 'token-endpoint: token / oidc-memory only in new'],
  );
  t.true(c.caveats.includes('measured only in the old run: login'));
  t.true(c.caveats.includes('measured only in the new run: scale'), 'a scenario that failed in one run was not measured there');
  t.true(c.caveats.some((x) => x.startsWith('the new run is partial (--quick)')));
});

test('the report puts what got slower first and says so plainly when nothing did', (t) => {
  const old = run([{ name: 'update-info', ratios: { 'update-info / koa-pg-write': s(0.2, 0.22, 0.25) } }], [target('met', '0.82')]);
  const slower = run([{ name: 'update-info', ratios: { 'update-info / koa-pg-write': s(0.1, 0.12, 0.15) } }], [target('not met', '0.71')]);
  const text = formatComparison(compareRuns(old, slower), { old, new: slower, oldFile: 'old.json', newFile: 'new.json' });
  const lines = text.split('\n');
  const head = lines.indexOf('slower beyond the spread of the rounds (every new round below every old one):');
  t.true(head > 0, text);
  t.regex(lines[head + 1], /update-info: update-info \/ koa-pg-write {2}0\.22 \(0\.20–0\.25\) → 0\.12 \(0\.10–0\.15\)/);
  t.regex(lines[head + 2], /target no longer met: authorized read ≥ 0\.80 of the bare audited read {2}0\.82 → 0\.71/);
  t.false(text.includes('nothing got slower'));
  const same = formatComparison(compareRuns(old, old), { old, new: old, oldFile: 'old.json', newFile: 'old.json' });
  t.true(same.includes('nothing got slower beyond the spread of the rounds'));
  t.regex(same, /update-info: update-info \/ koa-pg-write +0\.22 \(0\.20–0\.25\) → 0\.22 \(0\.20–0\.25\) +within spread/);
});

test('runs of different machines, loads or durability are compared with the difference said', (t) => {
  const machine = {
    cpuModel: 'AMD EPYC',
    cores: 2,
    memoryGiB: 23.5,
    os: 'Linux',
    node: 'v22',
    postgres: '15',
    autocannon: '9',
    commit: 'abc',
    dirty: false,
  };
  const profile = {
    quick: false,
    rounds: 5,
    durationSec: 4,
    warmupSec: 2,
    connections: 10,
    users: 10_000,
    apiUsers: 20,
    spreadUsers: 200,
    scaleSizes: [],
    scaleRounds: 3,
  };
  const old = run([], [], { machine: machine as RunJson['machine'], profile, loadAverage: { start: [0.8, 1.8, 1.7], end: [3.1, 2.9, 2.3] } });
  const now = run([], [], {
    machine: { ...machine, cores: 4, durability: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } },
    profile: { ...profile, connections: 50 },
    loadAverage: { start: [6.5, 10.1, 14.4], end: [12.3, 11.8, 12.8] },
  });
  const { caveats } = compareRuns(old, now);
  t.deepEqual(caveats, [
    'the runs load differently: connections 10 → 50',
    "PostgreSQL's durability differs: not recorded (runs before issue 19: fsync off) → fsync on, synchronous_commit on, full_page_writes on",
    'the machine was busier in the new run: load average up to 3.1 → 14.4 on 4 cores; read CPU per request before throughput',
    'another machine: AMD EPYC (2 cores) → AMD EPYC (4 cores)',
  ]);
});

test('bench/run.ts --compare old.json new.json compares two runs without running anything and exits 0, even when something got slower', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringfence-bench-compare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const oldFile = path.join(dir, 'old.json');
  const newFile = path.join(dir, 'new.json');
  writeFileSync(oldFile, JSON.stringify(run([{ name: 'owner-read', ratios: { 'owner-read / koa-pg': s(0.6, 0.65, 0.7) } }])));
  writeFileSync(newFile, JSON.stringify(run([{ name: 'owner-read', ratios: { 'owner-read / koa-pg': s(0.3, 0.32, 0.35) } }])));
  const res = spawnSync(process.execPath, ['bench/run.ts', '--compare', oldFile, newFile], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  t.is(res.status, 0, res.stderr);
  t.regex(res.stdout, /slower beyond the spread[^\n]*\n {2}owner-read: owner-read \/ koa-pg {2}0\.65 \(0\.60–0\.70\) → 0\.32 \(0\.30–0\.35\)/);
  t.false(res.stdout.includes('PostgreSQL at'), 'no benchmark ran');

  const broken = path.join(dir, 'broken.json');
  writeFileSync(broken, '{"startedAt": "2026-12-01"}');
  t.throws(() => readRun(broken), { message: /not a benchmark run's JSON/ });
  const refused = spawnSync(process.execPath, ['bench/run.ts', '--compare', broken, newFile], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  t.is(refused.status, 2, 'a file that is not a run is a usage error, told at once');
  t.regex(refused.stderr, /--compare: .*broken\.json: not a benchmark run's JSON/);
});
