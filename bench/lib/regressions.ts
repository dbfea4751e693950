/**
 * `--compare`: two runs' JSON read side by side, scenario by scenario, ratio by ratio. A ratio got slower when it
 * fell beyond the spread of both runs — its highest round in the new run below the lowest round in the old one —
 * and faster the other way round; ranges that overlap are within the noise the rounds themselves show. The CPU per
 * request of every subject (process + PostgreSQL, round by round) is read the same way, as is a target that was
 * met and is no longer. A report only: nothing here fails a run.
 */
import { readFileSync } from 'node:fs';
import type { RunReport } from './report.ts';
import { spread, type Spread } from './stats.ts';

/** `only in …`: a ratio of a scenario both runs measured that one of them did not take. */
type Verdict = 'slower' | 'faster' | 'within spread' | 'only in old' | 'only in new';

interface RatioChange {
  scenario: string;
  /** `<subject> / <baseline>` */
  ratio: string;
  old?: Spread;
  new?: Spread;
  verdict: Verdict;
}

interface CostChange {
  scenario: string;
  variant: string;
  /** CPU µs per request, process + PostgreSQL, per round. */
  old: Spread;
  new: Spread;
  verdict: 'costlier' | 'cheaper' | 'within spread';
}

interface TargetChange {
  id: string;
  description: string;
  old: string;
  new: string;
}

export interface RunComparison {
  ratios: RatioChange[];
  costs: CostChange[];
  /** Targets met in the old run and not in the new one. */
  targetsLost: TargetChange[];
  /** Targets not met in the old run and met in the new one. */
  targetsGained: TargetChange[];
  /** Why the two runs may not be comparable at all (another profile, a partial run, another machine). */
  caveats: string[];
}

/** What a run's JSON holds that the comparison reads; older files may lack some of it. */
export type RunJson = Pick<RunReport, 'startedAt' | 'scenarios' | 'targets'> &
  Partial<Pick<RunReport, 'complete' | 'quick' | 'profile' | 'machine' | 'loadAverage' | 'seconds'>>;

/** A run's JSON (bench/results/<date>.json), checked to be one before it is read as one. */
export function readRun(file: string): RunJson {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not a benchmark run's JSON (${(err as Error).message})`);
  }
  const run = json as Partial<RunJson> | null;
  if (!run || typeof run.startedAt !== 'string' || !Array.isArray(run.scenarios) || !Array.isArray(run.targets)) {
    throw new Error(`${file}: not a benchmark run's JSON (no startedAt, scenarios and targets)`);
  }
  return run as RunJson;
}

/** slower: every round of `b` below every round of `a`; faster: every round above; otherwise within the spread. */
function verdictOf(a: Spread, b: Spread): 'slower' | 'faster' | 'within spread' {
  if (b.max < a.min) return 'slower';
  if (b.min > a.max) return 'faster';
  return 'within spread';
}

/** A subject's CPU µs per request, process + PostgreSQL, round by round (the rounds the JSON keeps). */
function costSpread(v: RunJson['scenarios'][number]['variants'][number]): Spread | undefined {
  const perRound = (v.rounds ?? []).map((r) => (r.cpuUsPerRequest?.target ?? Number.NaN) + (r.cpuUsPerRequest?.postgres ?? Number.NaN));
  const s = spread(perRound);
  return Number.isFinite(s.median) ? s : undefined;
}

/** Compares run `b` (new) with run `a` (old). */
export function compareRuns(a: RunJson, b: RunJson): RunComparison {
  const ratios: RatioChange[] = [];
  const costs: CostChange[] = [];
  const measured = (run: RunJson) => run.scenarios.filter((s) => s.status === 'ok').map((s) => s.name);
  const both = measured(b).filter((n) => measured(a).includes(n));
  for (const name of both) {
    const sa = a.scenarios.find((s) => s.name === name);
    const sb = b.scenarios.find((s) => s.name === name);
    const names = [...new Set([...(sb?.ratios ?? []).map((r) => r.name), ...(sa?.ratios ?? []).map((r) => r.name)])];
    for (const ratio of names) {
      const ra = sa?.ratios.find((r) => r.name === ratio)?.rps;
      const rb = sb?.ratios.find((r) => r.name === ratio)?.rps;
      const verdict: Verdict = !ra ? 'only in new' : !rb ? 'only in old' : verdictOf(ra, rb);
      ratios.push({ scenario: name, ratio, ...(ra ? { old: ra } : {}), ...(rb ? { new: rb } : {}), verdict });
    }
    for (const vb of sb?.variants ?? []) {
      if (vb.role !== 'subject') continue;
      const va = sa?.variants.find((v) => v.name === vb.name);
      const ca = va && costSpread(va);
      const cb = costSpread(vb);
      if (!ca || !cb) continue;
      // More CPU per request is the slower side: compare the other way round.
      const v = verdictOf(cb, ca);
      costs.push({
        scenario: name,
        variant: vb.name,
        old: ca,
        new: cb,
        verdict: v === 'slower' ? 'costlier' : v === 'faster' ? 'cheaper' : 'within spread',
      });
    }
  }
  const targetsLost: TargetChange[] = [];
  const targetsGained: TargetChange[] = [];
  for (const tb of b.targets) {
    const ta = a.targets.find((t) => t.id === tb.id);
    if (!ta) continue;
    const change = { id: tb.id, description: tb.description, old: ta.measured ?? ta.status, new: tb.measured ?? tb.status };
    if (ta.status === 'met' && tb.status === 'not met') targetsLost.push(change);
    if (ta.status === 'not met' && tb.status === 'met') targetsGained.push(change);
  }
  const caveats: string[] = [];
  for (const [label, run] of [
    ['old', a],
    ['new', b],
  ] as const) {
    if (run.complete === false)
      caveats.push(`the ${label} run is partial${run.quick ? ' (--quick)' : ''}: fewer or shorter rounds, smaller databases`);
  }
  if (a.profile && b.profile) {
    const differ = (['connections', 'users', 'rounds', 'durationSec'] as const)
      .filter((k) => a.profile![k] !== b.profile![k])
      .map((k) => `${k} ${a.profile![k]} → ${b.profile![k]}`);
    if (differ.length > 0) caveats.push(`the runs load differently: ${differ.join(', ')}`);
  }
  const durability = (run: RunJson) =>
    run.machine?.durability
      ? Object.entries(run.machine.durability)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
      : 'not recorded (runs before issue 19: fsync off)';
  if (durability(a) !== durability(b)) caveats.push(`PostgreSQL's durability differs: ${durability(a)} → ${durability(b)}`);
  if (a.loadAverage && b.loadAverage) {
    const peak = (run: RunJson) => Math.max(...run.loadAverage!.start, ...run.loadAverage!.end);
    const cores = b.machine?.cores ?? a.machine?.cores ?? 1;
    // Other work on the machine moves throughput more than most changes do: say so when one run had far more.
    if (Math.abs(peak(a) - peak(b)) > cores) {
      caveats.push(
        `the machine was busier in the ${peak(b) > peak(a) ? 'new' : 'old'} run: load average up to ${peak(a)} → ${peak(b)} on ${cores} cores; read CPU per request before throughput`,
      );
    }
  }
  const onlyIn = (x: RunJson, y: RunJson) => measured(x).filter((n) => !measured(y).includes(n));
  if (onlyIn(a, b).length > 0) caveats.push(`measured only in the old run: ${onlyIn(a, b).join(', ')}`);
  if (onlyIn(b, a).length > 0) caveats.push(`measured only in the new run: ${onlyIn(b, a).join(', ')}`);
  if (a.machine && b.machine && (a.machine.cores !== b.machine.cores || a.machine.cpuModel !== b.machine.cpuModel)) {
    caveats.push(`another machine: ${a.machine.cpuModel} (${a.machine.cores} cores) → ${b.machine.cpuModel} (${b.machine.cores} cores)`);
  }
  return { ratios, costs, targetsLost, targetsGained, caveats };
}

const f2 = (s: Spread | undefined) => (s ? `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : '–');
const f0 = (s: Spread) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;

function runLine(label: string, run: RunJson, file: string): string {
  const m = run.machine;
  const load = run.loadAverage ? `, load average ${run.loadAverage.start.join('/')} → ${run.loadAverage.end.join('/')}` : '';
  const kind = run.complete === false ? `partial${run.quick ? ', quick' : ''}` : 'full';
  return `${label}: ${file} — ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${kind} run${m ? `, commit ${m.commit}${m.dirty ? ' (dirty)' : ''}` : ''}${load}`;
}

/** The console report of a comparison: what got slower first, then every ratio scenario by scenario. */
export function formatComparison(c: RunComparison, runs: { old: RunJson; new: RunJson; oldFile: string; newFile: string }): string {
  const lines = [runLine('old', runs.old, runs.oldFile), runLine('new', runs.new, runs.newFile)];
  for (const caveat of c.caveats) lines.push(`note: ${caveat}`);
  const slower = c.ratios.filter((r) => r.verdict === 'slower');
  const costlier = c.costs.filter((x) => x.verdict === 'costlier');
  lines.push('');
  if (slower.length === 0 && costlier.length === 0 && c.targetsLost.length === 0) {
    lines.push('nothing got slower beyond the spread of the rounds');
  } else {
    lines.push('slower beyond the spread of the rounds (every new round below every old one):');
    for (const r of slower) lines.push(`  ${r.scenario}: ${r.ratio}  ${f2(r.old)} → ${f2(r.new)}`);
    for (const x of costlier) lines.push(`  ${x.scenario}: ${x.variant} CPU µs/req (process + PostgreSQL)  ${f0(x.old)} → ${f0(x.new)}`);
    for (const t of c.targetsLost) lines.push(`  target no longer met: ${t.description}  ${t.old} → ${t.new}`);
  }
  const faster = c.ratios.filter((r) => r.verdict === 'faster');
  if (faster.length > 0 || c.targetsGained.length > 0) {
    lines.push('', 'faster beyond the spread:');
    for (const r of faster) lines.push(`  ${r.scenario}: ${r.ratio}  ${f2(r.old)} → ${f2(r.new)}`);
    for (const t of c.targetsGained) lines.push(`  target now met: ${t.description}  ${t.old} → ${t.new}`);
  }
  lines.push('', 'every ratio (throughput; median of the rounds, min–max):');
  const width = Math.max(10, ...c.ratios.map((r) => r.scenario.length + r.ratio.length + 2));
  for (const r of c.ratios) {
    lines.push(`  ${`${r.scenario}: ${r.ratio}`.padEnd(width)}  ${f2(r.old).padStart(18)} → ${f2(r.new).padEnd(18)}  ${r.verdict}`);
  }
  if (c.costs.length > 0) {
    lines.push('', 'CPU µs per request of each subject, process + PostgreSQL:');
    for (const x of c.costs)
      lines.push(`  ${`${x.scenario}: ${x.variant}`.padEnd(width)}  ${f0(x.old).padStart(18)} → ${f0(x.new).padEnd(18)}  ${x.verdict}`);
  }
  return lines.join('\n');
}
