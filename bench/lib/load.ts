/**
 * One load run: a plan sent to load-driver.ts (autocannon), which runs in a child process of its own for the whole
 * benchmark, while the target's resident memory is sampled from /proc. Returns throughput, latency and what went
 * wrong (errors, non-2xx answers).
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { DriverOutput } from './load-driver.ts';
import { NODE, ROOT, baseEnv, cpuMs, readRssKb, spawnRegistered, treeCpuMs } from './processes.ts';

export interface LoadRequest {
  method?: string;
  /** Path and query, e.g. /api/v1/profile */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadPlan {
  /** Origin of the target, http://127.0.0.1:<port> */
  url: string;
  /** Sent in turn by every connection, each starting at its own offset. */
  requests: LoadRequest[];
  connections: number;
  durationSec: number;
  timeoutSec?: number;
}

export interface LoadSample {
  /** Requests per second: autocannon's requests.average (the mean of its per-second samples). */
  rps: number;
  /** Completed requests over the whole run, all statuses. */
  total: number;
  /** From the driver's microsecond histogram of 2xx responses. */
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** autocannon's own whole-millisecond percentiles, kept for comparison with its CLI output. */
  autocannonLatencyMs: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Connection errors by code (ECONNRESET, …). */
  errorKinds: Record<string, number>;
  /** Target's highest resident memory sample while loaded, KiB. */
  rssPeakKb: number | undefined;
  /**
   * CPU time per completed request, µs: of the target process, and of the PostgreSQL server (postmaster and
   * backends). Unlike throughput, cost per request hardly moves when other work shares the machine.
   */
  cpuUsPerRequest: { target: number | undefined; postgres: number | undefined };
}

const DRIVER = path.join(ROOT, 'bench/lib/load-driver.ts');

interface Pending {
  resolve(output: DriverOutput): void;
  reject(err: Error): void;
}

let driver: { child: ChildProcess; pending: Map<number, Pending>; stderr: string } | undefined;
let nextId = 0;

/** The running driver, started on first use and again after it died. */
function loadDriver(): NonNullable<typeof driver> {
  if (driver) return driver;
  const { child, exited } = spawnRegistered(NODE, [DRIVER], { cwd: ROOT, env: baseEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const d = { child, pending: new Map<number, Pending>(), stderr: '' };
  child.stderr!.on('data', (b: Buffer) => (d.stderr = (d.stderr + b.toString()).slice(-4000)));
  child.on('message', (m: { id: number; output?: DriverOutput; error?: string }) => {
    const p = d.pending.get(m.id);
    d.pending.delete(m.id);
    if (m.output) p?.resolve(m.output);
    else p?.reject(new Error(`load generator: ${m.error}`));
  });
  void exited.then(({ code, signal }) => {
    if (driver === d) driver = undefined;
    for (const p of d.pending.values())
      p.reject(new Error(`load generator ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${d.stderr.trim()}`));
  });
  driver = d;
  return d;
}

/** Runs one load and samples `pid`'s RSS every 100 ms meanwhile; CPU of `pid` and of PostgreSQL (`pgPid`) over the run. */
export async function runLoad(plan: LoadPlan, options: { pid?: number; pgPid?: number } = {}): Promise<LoadSample> {
  let peak: number | undefined;
  const sample = () => {
    if (options.pid === undefined) return;
    const rss = readRssKb(options.pid);
    if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
  };
  const sampler = setInterval(sample, 100);
  const cpu = () => ({
    target: options.pid === undefined ? undefined : cpuMs(options.pid),
    postgres: options.pgPid === undefined ? undefined : treeCpuMs(options.pgPid),
  });
  const d = loadDriver();
  const cpuBefore = cpu();
  const id = ++nextId;
  const killer = setTimeout(() => d.child.kill('SIGKILL'), (plan.durationSec + 60) * 1000);
  let out: DriverOutput;
  try {
    out = await new Promise<DriverOutput>((resolve, reject) => {
      d.pending.set(id, { resolve, reject });
      d.child.send({ id, plan });
    });
  } finally {
    clearTimeout(killer);
    clearInterval(sampler);
  }
  sample();
  const cpuAfter = cpu();
  const ac = out.autocannon as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodeStats?: Record<string, { count: number }>;
  };
  const us = out.latencyUs;
  const ms = (v: number | null) => (v === null ? Number.NaN : v / 1000);
  const statusCodes: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(ac.statusCodeStats ?? {})) statusCodes[status] = Number(count);
  return {
    rps: ac.requests.average,
    total: ac.requests.total,
    latencyMs: { p50: ms(us.p50), p90: ms(us.p90), p99: ms(us.p99), mean: ms(us.mean), max: ms(us.max) },
    autocannonLatencyMs: { p50: ac.latency.p50, p99: ac.latency.p99 },
    non2xx: ac.non2xx,
    errors: ac.errors,
    timeouts: ac.timeouts,
    statusCodes,
    errorKinds: out.errorKinds ?? {},
    rssPeakKb: peak,
    cpuUsPerRequest: {
      target: perRequest(cpuBefore.target, cpuAfter.target, ac.requests.total),
      postgres: perRequest(cpuBefore.postgres, cpuAfter.postgres, ac.requests.total),
    },
  };
}

function perRequest(beforeMs: number | undefined, afterMs: number | undefined, requests: number): number | undefined {
  if (beforeMs === undefined || afterMs === undefined || requests === 0) return undefined;
  return ((afterMs - beforeMs) * 1000) / requests;
}
