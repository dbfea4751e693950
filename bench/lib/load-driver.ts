/**
 * The load generator, run by load.ts in a process of its own (never in the server's, never in the
 * orchestrator's): autocannon 9 through its API, printing one JSON line with autocannon's own result and a
 * microsecond latency histogram. Closed loop only: autocannon's rate limit (-R) lets each connection burst its
 * quota at the start of every second, which measures bursts, not a steady rate, so it is not offered.
 *
 * Why not the CLI's `--json` alone: its latency histogram has a 1 ms floor (`lowestDiscernibleValue: 1` in
 * autocannon/lib/histUtil.js) and records whole milliseconds, so the p50 of a 0.4 ms request reads 0 and a p99
 * of 3.4 ms reads 3. Every response's time is a float from process.hrtime, so this driver records it in
 * microseconds beside autocannon's own histogram (the same responses: 2xx only). Each connection starts at a
 * different offset of the request list, so connections spread over the users instead of moving through them in
 * lockstep.
 *
 * load.ts keeps one driver running for the whole benchmark and sends it one plan at a time over IPC: loading
 * autocannon costs ~0.6 s per process start, and a generator whose own code is still cold under-reports the
 * first second of every run. By hand: node bench/lib/load-driver.ts <plan.json>
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHistogram } from 'node:perf_hooks';
import type { LoadPlan } from './load.ts';

interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface AutocannonClient {
  setRequests(requests: AutocannonRequest[]): void;
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'reqError', listener: (err: Error & { code?: string }) => void): void;
  stop(): void;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: Record<string, unknown>) => void) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface DriverOutput {
  autocannon: Record<string, unknown>;
  /** Connection errors by code or message, so a failed run says what failed. */
  errorKinds: Record<string, number>;
  latencyUs: {
    count: number;
    mean: number | null;
    min: number | null;
    p50: number | null;
    p90: number | null;
    p99: number | null;
    p999: number | null;
    max: number | null;
  };
}

let current: AutocannonInstance | undefined;

/** Runs one plan to its end. */
function run(plan: LoadPlan): Promise<DriverOutput> {
  const requests: AutocannonRequest[] = plan.requests.map((r) => ({
    method: r.method ?? 'GET',
    path: r.path,
    headers: r.headers,
    body: r.body,
  }));
  const histogram = createHistogram();
  const errorKinds: Record<string, number> = {};
  let connection = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: plan.url,
        connections: plan.connections,
        duration: plan.durationSec,
        timeout: plan.timeoutSec ?? 10,
        requests,
        setupClient(client: AutocannonClient) {
          if (requests.length > 1) {
            const offset = Math.floor((connection++ * requests.length) / plan.connections) % requests.length;
            client.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
          }
        },
      },
      (err, result) => {
        current = undefined;
        if (err) {
          reject(err);
          return;
        }
        const count = histogram.count;
        const p = (q: number) => (count > 0 ? histogram.percentile(q) : null);
        resolve({
          autocannon: result,
          errorKinds,
          latencyUs: {
            count,
            mean: count > 0 ? histogram.mean : null,
            min: count > 0 ? histogram.min : null,
            p50: p(50),
            p90: p(90),
            p99: p(99),
            p999: p(99.9),
            max: count > 0 ? histogram.max : null,
          },
        });
      },
    );
    current = instance;
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode <= 299) histogram.record(Math.max(1, Math.round(responseTime * 1000)));
    });
    instance.on('reqError', (err) => {
      const kind = err.code ?? err.message.slice(0, 80);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    });
  });
}

if (process.send) {
  process.on('message', (message: { id: number; plan: LoadPlan }) => {
    run(message.plan).then(
      (output) => process.send!({ id: message.id, output }),
      (err: Error) => process.send!({ id: message.id, error: err.message }),
    );
  });
  process.on('SIGTERM', () => {
    current?.stop();
    process.exit(0);
  });
} else {
  const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadPlan;
  process.on('SIGTERM', () => current?.stop());
  run(plan).then(
    (output) => process.stdout.write(`${JSON.stringify(output)}\n`),
    (err: Error) => {
      process.stderr.write(`autocannon failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
