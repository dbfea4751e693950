/**
 * The targets (issues 6 and 19), judged by the run itself and reported as met or not (a missed target never fails
 * the run). Each is judged by one scenario, or by the run as a whole when it names none (memory); a target whose
 * scenario could not run is "not measured", with why. A throughput target is a ratio of the rounds' medians to a
 * baseline measured in the same rounds, and the chart draws its threshold.
 */
import { formatSpread } from './compare.ts';
import type { RatioResult, TargetResult, TargetStatus } from './scenario.ts';

export interface TargetDef {
  id: string;
  /** The scenario that judges it; none: the run does (from what every scenario measured). */
  scenario?: string;
  description: string;
  /** A throughput target: the ratio (`<subject> / <baseline>`) whose median must be at least `atLeast`. */
  ratio?: { name: string; atLeast: number };
}

/** Most a service's resident memory may grow under load, as a multiple of its idle size once seeded. */
const RSS_GROWTH_LIMIT = 1.5;

export const TARGETS: readonly TargetDef[] = [
  {
    id: 'authorized-read-vs-audited',
    scenario: 'authorized-read',
    description: 'authorized field read ≥ 0.80 of bare Koa + pg doing the whole promise by hand (token, profile, chained audit row)',
    ratio: { name: 'authorized-read / koa-pg-audited', atLeast: 0.8 },
  },
  {
    id: 'owner-read-throughput',
    scenario: 'owner-read',
    description: 'owner profile read ≥ 0.60 of bare Koa + pg reading the same profile',
    ratio: { name: 'owner-read / koa-pg', atLeast: 0.6 },
  },
  {
    id: 'update-info-throughput',
    scenario: 'update-info',
    description: 'update-info ≥ 0.20 of a bare single-row update',
    ratio: { name: 'update-info / koa-pg-write', atLeast: 0.2 },
  },
  { id: 'policy-cached-p99', scenario: 'policy', description: 'cached policy decision p99 < 50 µs for 200 fields' },
  {
    id: 'token-endpoint-throughput',
    scenario: 'token-endpoint',
    description: 'token endpoint ≥ 0.95 of bare oidc-provider with the same adapter',
    ratio: { name: 'token / oidc-bare', atLeast: 0.95 },
  },
  { id: 'scale-p99-flat', scenario: 'scale', description: 'authorized read p99 at 100k users within 20% of 1k users' },
  { id: 'rss-under-load', description: `service RSS under load ≤ ${RSS_GROWTH_LIMIT}× idle` },
];

function definition(id: string): TargetDef {
  const def = TARGETS.find((t) => t.id === id);
  if (!def) throw new Error(`unknown target ${id}`);
  return def;
}

/** A verdict for target `id`: met when `ok`, with the measured value as the table shows it. */
export function judge(id: string, ok: boolean, measured: string, note?: string): TargetResult {
  const status: TargetStatus = ok ? 'met' : 'not met';
  return { id, description: definition(id).description, status, measured, ...(note ? { note } : {}) };
}

/** The verdict of a throughput target from its ratio, measured in this run's rounds. */
export function judgeRatio(id: string, ratios: readonly RatioResult[]): TargetResult {
  const def = definition(id);
  if (!def.ratio) throw new Error(`target ${id} is not a throughput ratio`);
  const r = ratios.find((x) => x.name === def.ratio!.name);
  if (!r) throw new Error(`target ${id}: no ratio ${def.ratio.name} measured`);
  return judge(id, r.rps.median >= def.ratio.atLeast, formatSpread(r.rps, 3));
}

export function notMeasured(id: string, note: string, measured?: string): TargetResult {
  return { id, description: definition(id).description, status: 'not measured', note, ...(measured ? { measured } : {}) };
}

/** The memory target from the main service's idle and highest RSS under load, KiB. */
export function judgeMemory(idleKb: number | undefined, peakKb: number | undefined): TargetResult {
  if (idleKb === undefined || peakKb === undefined) return notMeasured('rss-under-load', 'no scenario loaded the main service');
  const growth = peakKb / idleKb;
  const mib = (kb: number) => (kb / 1024).toFixed(0);
  return judge('rss-under-load', growth <= RSS_GROWTH_LIMIT, `${mib(idleKb)} MiB idle → ${mib(peakKb)} MiB under load (×${growth.toFixed(2)})`);
}

/** Thresholds of the throughput targets by ratio name, for the chart. */
export function ratioThresholds(): ReadonlyMap<string, number> {
  return new Map(TARGETS.filter((t) => t.ratio).map((t) => [t.ratio!.name, t.ratio!.atLeast]));
}
