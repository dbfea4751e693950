/**
 * What a scenario is and what it gets: a scenario is a small module (bench/scenarios/<name>.ts) that seeds what it
 * needs through the context, names the variants to compare — the real endpoint and its baselines — and turns the
 * measured numbers into ratios and target verdicts. The run order, processes, rounds and reports are run.ts's.
 */
import type { Environment } from './environment.ts';
import type { LoadRequest, LoadSample } from './load.ts';
import type { ManagedProcess } from './processes.ts';
import type { Spread } from './stats.ts';

/** How much to measure: the full profile for published numbers, `--quick` for a smoke run. */
export interface RunProfile {
  quick: boolean;
  /** Measured rounds per variant, interleaved A/B. */
  rounds: number;
  durationSec: number;
  /** One unrecorded run per variant before the first round (JIT, pools, caches). */
  warmupSec: number;
  connections: number;
  /** Users in the main database (the issue: 10,000 with ~30 fields each). */
  users: number;
  /** Users registered through the real API (login scenario, the rest via the repository in bulk). */
  apiUsers: number;
  /** Distinct users a read or write scenario spreads its requests over. */
  spreadUsers: number;
  /** Database sizes of the scale scenario. */
  scaleSizes: number[];
  scaleRounds: number;
}

type Role = 'subject' | 'baseline' | 'ceiling';

/** One thing to load: a real endpoint or a baseline, on the process that serves it. */
export interface Variant {
  /** Short stable id, e.g. `owner-read`, `koa-pg`. */
  name: string;
  /** What is measured, for the table. */
  label: string;
  role: Role;
  target: ManagedProcess;
  requests: LoadRequest[];
}

/**
 * The two reference variants every read scenario runs beside its subject: bare Koa + pg reading the same profiles'
 * field rows (the bare read), and bare Koa returning a constant (the framework ceiling).
 */
export function bareReadVariants(bare: ManagedProcess, ceiling: ManagedProcess, profileIds: readonly string[]): Variant[] {
  return [
    {
      name: 'koa-pg',
      label: 'bare Koa + pg, the same profiles’ field rows',
      role: 'baseline',
      target: bare,
      requests: profileIds.map((id) => ({ path: `/read/${id}` })),
    },
    { name: 'koa-constant', label: 'bare Koa, constant JSON', role: 'ceiling', target: ceiling, requests: [{ path: '/' }] },
  ];
}

export interface VariantResult {
  name: string;
  label: string;
  role: Role;
  process: string;
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** CPU time per request, µs: of the process serving it, and of PostgreSQL (see LoadSample.cpuUsPerRequest). */
  cpuUsPerRequest: Spread;
  pgCpuUsPerRequest: Spread;
  /** Target's RSS before the first load of this comparison and its highest sample under load, KiB. */
  rssIdleKb: number | undefined;
  rssPeakKb: number | undefined;
  non2xx: number;
  errors: number;
  rounds: LoadSample[];
}

export interface RatioResult {
  /** `<subject> / <baseline>` */
  name: string;
  of: string;
  to: string;
  /** Per-round throughput ratios (each round measures both side by side), median and min–max. */
  rps: Spread;
}

export type TargetStatus = 'met' | 'not met' | 'not measured';

export interface TargetResult {
  id: string;
  description: string;
  status: TargetStatus;
  /** The measured value as the table shows it, e.g. `0.74 (0.70–0.77)`. */
  measured?: string;
  note?: string;
}

export interface ScenarioResult {
  name: string;
  title: string;
  description: string;
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  variants: VariantResult[];
  ratios: RatioResult[];
  targets: TargetResult[];
  notes: string[];
  /** Scenario-specific numbers (policy micro-benchmark, hash parameters, scale series). */
  extra?: Record<string, unknown>;
  seconds: number;
}

/** What a scenario returns; run.ts adds the name, status and timing. */
type ScenarioOutput = Partial<Pick<ScenarioResult, 'variants' | 'ratios' | 'targets' | 'notes' | 'extra'>>;

export interface CompareOptions {
  rounds?: number;
  durationSec?: number;
  warmupSec?: number;
  connections?: number;
}

export interface BenchContext {
  profile: RunProfile;
  /** The main database (profile.users users), the service on it and the Koa + pg baseline reading it. */
  main(): Promise<Environment>;
  /** Another database with its own service and Koa + pg baseline (the scale scenario grows its own). */
  environment(name: string): Promise<Environment>;
  /** The bare Koa constant baseline (framework ceiling). */
  constant: ManagedProcess;
  tmpDir: string;
  logDir: string;
  /** Runs the variants A/B interleaved over the rounds (order reversed every other round). */
  compare(variants: Variant[], options?: CompareOptions): Promise<VariantResult[]>;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  title: string;
  /** One sentence for the report: what is compared with what. */
  description: string;
  run(ctx: BenchContext): Promise<ScenarioOutput>;
}

/** Thrown by a scenario whose feature is not in the code yet: reported as "not available" with the reason. */
export class Unavailable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Unavailable';
  }
}
