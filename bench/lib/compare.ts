/**
 * A/B interleaving: every variant of a comparison is loaded once per round, one after the other, the order
 * reversed every other round so drift (thermal, caches, a growing table) does not favour one side. Ratios are
 * taken per round, between measurements made seconds apart, and summarized as median and min–max.
 */
import { runLoad, type LoadSample } from './load.ts';
import { readRssKb } from './processes.ts';
import type { CompareOptions, RatioResult, RunProfile, Variant, VariantResult } from './scenario.ts';
import { spread } from './stats.ts';

/** Share of non-2xx answers above which a run measures the wrong thing (an expired token, a 404). */
const MAX_ERROR_SHARE = 0.01;

/** One request of the variant, checked before any load: a wrong setup fails here with the answer it got. */
async function preflight(v: Variant): Promise<void> {
  const r = v.requests[0];
  const res = await fetch(v.target.url + r.path, { method: r.method ?? 'GET', headers: r.headers, body: r.body });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${v.name}: ${r.method ?? 'GET'} ${r.path} answered ${res.status} before any load: ${text.slice(0, 300)}`);
  }
}

function checkSample(v: Variant, s: LoadSample, phase: string): void {
  const bad = s.non2xx + s.errors;
  if (s.total === 0 || bad / Math.max(1, s.total + s.errors) > MAX_ERROR_SHARE) {
    const gone = v.target.exitStatus();
    if (gone) throw new Error(`${v.name} (${phase}): its process ${v.target.name} ${gone} under load; its log: ${v.target.logFile}`);
    throw new Error(
      `${v.name} (${phase}): ${s.non2xx} non-2xx answers and ${s.errors} errors in ${s.total} requests ` +
        `(status codes ${JSON.stringify(s.statusCodes)}, errors ${JSON.stringify(s.errorKinds)}): the setup is wrong, not slow`,
    );
  }
}

export async function compareVariants(
  variants: Variant[],
  profile: RunProfile,
  options: CompareOptions,
  env: {
    log(message: string): void;
    pgPid?: number;
    /** Told when each measured load starts and ends (process.hrtime µs), so a CPU profile can be cut to it. */
    mark?(window: { variant: string; process: string; startUs: number; endUs: number }): void;
  },
): Promise<VariantResult[]> {
  const rounds = options.rounds ?? profile.rounds;
  const durationSec = options.durationSec ?? profile.durationSec;
  const warmupSec = options.warmupSec ?? profile.warmupSec;
  const connections = options.connections ?? profile.connections;

  for (const v of variants) await preflight(v);
  const idle = new Map(variants.map((v) => [v.name, readRssKb(v.target.pid)]));
  const load = (v: Variant, seconds: number) =>
    runLoad({ url: v.target.url, requests: v.requests, connections, durationSec: seconds }, { pid: v.target.pid, pgPid: env.pgPid });

  if (warmupSec > 0) {
    for (const v of variants) checkSample(v, await load(v, warmupSec), 'warm-up');
  }
  const samples = new Map<string, LoadSample[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const startUs = Number(process.hrtime.bigint() / 1000n);
      const s = await load(v, durationSec);
      env.mark?.({ variant: v.name, process: v.target.name, startUs, endUs: Number(process.hrtime.bigint() / 1000n) });
      checkSample(v, s, `round ${round + 1}`);
      samples.get(v.name)!.push(s);
      env.log(
        `  round ${round + 1}/${rounds} ${v.name.padEnd(22)} ${s.rps.toFixed(0).padStart(7)} req/s  ` +
          `p50 ${s.latencyMs.p50.toFixed(2)} ms  p99 ${s.latencyMs.p99.toFixed(2)} ms  ` +
          `CPU/req ${cpuText(s.cpuUsPerRequest.target)} + pg ${cpuText(s.cpuUsPerRequest.postgres)} µs`,
      );
    }
  }

  return variants.map((v) => {
    const runs = samples.get(v.name)!;
    const peaks = runs.map((r) => r.rssPeakKb).filter((x): x is number => x !== undefined);
    return {
      name: v.name,
      label: v.label,
      role: v.role,
      process: v.target.name,
      rps: spread(runs.map((r) => r.rps)),
      p50Ms: spread(runs.map((r) => r.latencyMs.p50)),
      p99Ms: spread(runs.map((r) => r.latencyMs.p99)),
      cpuUsPerRequest: spread(runs.map((r) => r.cpuUsPerRequest.target ?? Number.NaN)),
      pgCpuUsPerRequest: spread(runs.map((r) => r.cpuUsPerRequest.postgres ?? Number.NaN)),
      rssIdleKb: idle.get(v.name),
      rssPeakKb: peaks.length > 0 ? Math.max(...peaks) : undefined,
      non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      rounds: runs,
    };
  });
}

const cpuText = (us: number | undefined) => (us === undefined ? '–' : us.toFixed(0));

/** Throughput of `of` relative to `to`, round by round. */
export function ratio(results: readonly VariantResult[], of: string, to: string): RatioResult {
  const a = results.find((r) => r.name === of);
  const b = results.find((r) => r.name === to);
  if (!a || !b) throw new Error(`no variant ${a ? to : of} to take a ratio of`);
  const perRound = a.rounds.map((s, i) => s.rps / b.rounds[i].rps);
  return { name: `${of} / ${to}`, of, to, rps: spread(perRound) };
}

/** `0.74 (0.70–0.77)` */
export function formatSpread(s: { median: number; min: number; max: number }, digits = 2): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}
