/**
 * `npm run bench`: one throwaway PostgreSQL, the service in production mode and the bare baselines each in a
 * process of their own, realistic data seeded through the service's own code, then every scenario of
 * bench/scenarios/ in order, each loaded by autocannon from yet another process, A/B interleaved with its
 * baselines. Writes bench/results/<date>.json, bench/RESULTS.md and bench/results/ratios.svg (a partial run —
 * `--quick`, `--only` or an override — overwrites bench/results/last-partial.* instead), prints a summary, and stops
 * everything it started, also on failure and Ctrl-C. Targets are reported, never enforced.
 *
 *   node bench/run.ts [--quick] [--only <scenario>[,<scenario>…]] [--rounds N] [--duration S] [--users N]
 *                     [--cpu-prof] [--pg-stats] [--list] [--compare <old.json>]
 *   node bench/run.ts --compare <old.json> <new.json>
 *
 * The throwaway PostgreSQL runs with production durability — fsync, synchronous_commit and full_page_writes on
 * (the tests keep theirs off) — so every commit the service waits for, an audit row's above all, pays its WAL
 * flush as it would in production; the run's log shows the server's own SHOW of each setting.
 *
 * --compare <old.json> is the regression guard: after the run, its JSON is read beside the old one, scenario by
 * scenario, and what got slower beyond the spread of the rounds of both runs is printed (bench/lib/regressions.ts:
 * every round of the new run below every round of the old one), then every ratio and each subject's CPU per
 * request. With a second file, `--compare <old.json> <new.json>` compares two runs already made and runs nothing.
 * It is a report: it exits 0 whatever got slower.
 *
 * --cpu-prof runs the service and its Koa + pg baseline under V8's profiler (a partial run: profiling slows them)
 * and leaves one .cpuprofile per process in bench/.logs/cpu/, with load-windows.json saying when each variant was
 * loaded: `node bench/cpu-summary.ts <file> --variant <name>` summarises a profile during those loads only (Chrome
 * DevTools opens the .cpuprofile files too). Read a profile's (writev) share with care: a sample that lands while
 * the process waits in that syscall for the CPU (another process woken by the write ran first) counts there, so it
 * says more about the machine's scheduling than about the process's own CPU; /proc's CPU µs/req says that.
 *
 * --pg-stats loads pg_stat_statements into the throwaway server (a partial run) and writes what every statement of
 * the run cost PostgreSQL — calls, rows, planning and execution time — to bench/.logs/pg-statements.txt, the most
 * expensive first: with the request counts of the run, that is the statements per request and their cost. It loads
 * auto_explain too: a sample of plans as executed (timings, buffers, statements inside functions) in
 * bench/.logs/pg-plans.log.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client as PgClient } from 'pg';
import { startPostgres, type PgServer } from '../test/helpers/postgres.ts';
import { compareVariants } from './lib/compare.ts';
import { compareRuns, formatComparison, readRun } from './lib/regressions.ts';
import { startEnvironment, type Environment } from './lib/environment.ts';
import { machineInfo, postmasterPid } from './lib/machine.ts';
import { ROOT, freePort, killAllNow, readRssKb, startProcess, stopAll, type ManagedProcess } from './lib/processes.ts';
import { forJson, markdown, summary, type RunReport } from './lib/report.ts';
import { Unavailable, type BenchContext, type RunProfile, type ScenarioResult } from './lib/scenario.ts';
import { ratioChart } from './lib/svg.ts';
import { TARGETS, judgeMemory, notMeasured } from './lib/targets.ts';
import { SCENARIOS } from './scenarios/index.ts';

const FULL: RunProfile = {
  quick: false,
  rounds: 5,
  durationSec: 4,
  warmupSec: 2,
  connections: 10,
  users: 10_000,
  apiUsers: 20,
  spreadUsers: 200,
  scaleSizes: [1_000, 10_000, 100_000],
  scaleRounds: 3,
};

/** Issue 6: `npm run bench` completes in under 15 minutes on a 2-core machine. */
const BUDGET_SECONDS = 15 * 60;

const QUICK: RunProfile = {
  quick: true,
  rounds: 2,
  durationSec: 2,
  warmupSec: 1,
  connections: 10,
  users: 500,
  apiUsers: 8,
  spreadUsers: 50,
  scaleSizes: [200, 1_000, 2_000],
  scaleRounds: 2,
};

const USAGE = `usage: node bench/run.ts [--quick] [--only <scenario>[,…]] [--rounds N] [--duration S] [--users N] [--cpu-prof] [--pg-stats] [--list] [--compare <old.json>]
       node bench/run.ts --compare <old.json> <new.json>
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

const { values: args, positionals } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    users: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'pg-stats': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    compare: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
});

if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (args.list) {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
  process.exit(0);
}

/** Prints how run `newFile` compares with run `oldFile`; a comparison that cannot be read is said so, and is no failure of a run. */
function printComparison(oldFile: string, newFile: string): boolean {
  try {
    const [older, newer] = [readRun(oldFile), readRun(newFile)];
    process.stdout.write(`${formatComparison(compareRuns(older, newer), { old: older, new: newer, oldFile, newFile })}\n`);
    return true;
  } catch (err) {
    process.stderr.write(`--compare: ${(err as Error).message}\n`);
    return false;
  }
}

if (positionals.length > 1 || (positionals.length === 1 && !args.compare)) {
  process.stderr.write(`unexpected arguments ${positionals.join(' ')}\n${USAGE}\n`);
  process.exit(2);
}
if (args.compare && positionals.length === 1) process.exit(printComparison(args.compare, positionals[0]) ? 0 : 2);
if (args.compare) {
  // Read before the run, so a wrong path is told at once rather than after it.
  try {
    readRun(args.compare);
  } catch (err) {
    process.stderr.write(`--compare: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive whole number, got "${raw}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

const only = args.only
  ? args.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : null;
const unknown = (only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario ${unknown.join(', ')}\n${USAGE}\n`);
  process.exit(2);
}
const overrides = {
  rounds: positive('rounds', args.rounds),
  durationSec: positive('duration', args.duration),
  users: positive('users', args.users),
};
const base = args.quick ? QUICK : FULL;
const profile: RunProfile = {
  ...base,
  rounds: overrides.rounds ?? base.rounds,
  durationSec: overrides.durationSec ?? base.durationSec,
  users: overrides.users ?? base.users,
};
const complete = !args.quick && !args['cpu-prof'] && !args['pg-stats'] && only === null && Object.values(overrides).every((v) => v === undefined);
const selected = SCENARIOS.filter((s) => only === null || only.includes(s.name));

const BENCH = path.join(ROOT, 'bench');
const RESULTS = path.join(BENCH, 'results');
const started = new Date();
const loadAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
const log = (message: string) => process.stdout.write(`[${elapsed()}] ${message}\n`);

const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'ringfence-bench-'));
const logDir = path.join(BENCH, '.logs');
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });
mkdirSync(RESULTS, { recursive: true });

let pg: PgServer | undefined;
const environments: Environment[] = [];
let constant: ManagedProcess | undefined;
let cleaning: Promise<void> | undefined;

function stopPostgres(): void {
  try {
    pg?.stop();
  } catch (err) {
    // Ctrl-C reaches the server too; it may be gone already.
    process.stderr.write(`stopping PostgreSQL: ${(err as Error).message.split('\n')[0]}\n`);
  }
  pg = undefined;
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const env of environments.splice(0)) await env.close().catch(() => undefined);
    await constant?.stop().catch(() => undefined);
    await stopAll();
    stopPostgres();
    rmSync(tmpDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process of the run`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  killAllNow();
  stopPostgres();
});

async function main(): Promise<void> {
  log(`${complete ? 'full run' : 'partial run'}: ${selected.map((s) => s.name).join(', ')}${profile.quick ? ' (quick)' : ''}`);
  pg = await startPostgres({ durable: true });
  if (args['pg-stats']) await loadStatementStats(pg);
  log(`PostgreSQL at ${pg.url}`);
  const pgPid = await postmasterPid(pg.url);
  if (pgPid === undefined) log('PostgreSQL server process not found: its CPU time per request is not measured');
  const machine = await machineInfo(pg.url);
  log(
    `PostgreSQL durability (SHOW): ${Object.entries(machine.durability)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  log(
    `load average ${loadAtStart.join(' / ')}; ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; PostgreSQL ${machine.postgres}; commit ${machine.commit}${machine.dirty ? ' (dirty)' : ''}`,
  );
  const masterKey = randomBytes(32);
  const constantPort = await freePort();
  constant = await startProcess({
    name: 'koa-constant',
    script: 'bench/baselines/koa-constant.ts',
    env: { PORT: String(constantPort) },
    port: constantPort,
    readyPath: '/',
    logDir,
  });

  const cpuProfileDir = args['cpu-prof'] ? path.join(logDir, 'cpu') : undefined;
  // With --cpu-prof: when each variant was loaded, for `node bench/cpu-summary.ts --variant <name>`.
  const loadWindows: { variant: string; process: string; startUs: number; endUs: number }[] = [];
  const envOptions = { adminUrl: pg.url, masterKey, logDir, tmpDir, cpuProfileDir, log };
  let mainEnv: Promise<Environment> | undefined;
  let serviceIdleKb: number | undefined;
  const ctx: BenchContext = {
    profile,
    constant,
    tmpDir,
    logDir,
    log,
    main() {
      mainEnv ??= (async () => {
        log('starting the service (production mode) and Koa + pg on the main database');
        const env = await startEnvironment('main', envOptions);
        environments.push(env);
        log(`registering ${profile.apiUsers} users through the API`);
        await env.seeder.registerViaApi(profile.apiUsers);
        await env.seeder.ensureUsers(profile.users);
        await new Promise((r) => setTimeout(r, 1000));
        serviceIdleKb = readRssKb(env.service.pid);
        return env;
      })();
      return mainEnv;
    },
    async environment(name) {
      log(`starting the service and Koa + pg on database ${name}`);
      const env = await startEnvironment(name, envOptions);
      environments.push(env);
      return env;
    },
    compare(variants, options) {
      return compareVariants(variants, profile, options ?? {}, { log, pgPid, mark: cpuProfileDir ? (w) => loadWindows.push(w) : undefined });
    },
  };

  const results: ScenarioResult[] = [];
  for (const s of selected) {
    const t = Date.now();
    log(`scenario ${s.name}: ${s.title}`);
    const base = { name: s.name, title: s.title, description: s.description, variants: [], ratios: [], targets: [], notes: [] };
    try {
      const out = await s.run(ctx);
      results.push({ ...base, ...out, status: 'ok', seconds: Math.round((Date.now() - t) / 1000) } as ScenarioResult);
      if (complete)
        log(`scenario ${s.name} took ${Math.round((Date.now() - t) / 1000)} s; ${elapsed().trim()} of the ${BUDGET_SECONDS / 60}-minute budget gone`);
    } catch (err) {
      const unavailable = err instanceof Unavailable;
      log(`scenario ${s.name} ${unavailable ? 'not available' : 'FAILED'}: ${(err as Error).message}`);
      if (!unavailable) process.stderr.write(`${(err as Error).stack}\n`);
      results.push({
        ...base,
        status: unavailable ? 'unavailable' : 'failed',
        reason: (err as Error).message,
        seconds: Math.round((Date.now() - t) / 1000),
      });
    }
  }

  if (args['pg-stats']) {
    const file = path.join(logDir, 'pg-statements.txt');
    writeFileSync(file, await statementStats(pg.url));
    copyFileSync(pg.logFile, path.join(logDir, 'pg-plans.log'));
    log(
      `PostgreSQL's statement statistics in ${path.relative(ROOT, file)}, sampled plans in ${path.relative(ROOT, path.join(logDir, 'pg-plans.log'))}`,
    );
  }

  if (cpuProfileDir) {
    mkdirSync(cpuProfileDir, { recursive: true });
    writeFileSync(path.join(cpuProfileDir, 'load-windows.json'), `${JSON.stringify(loadWindows, null, 1)}\n`);
  }

  const mainService = mainEnv ? (await mainEnv).service : undefined;
  const peaks = results
    .flatMap((r) => r.variants)
    .filter((v) => mainService && v.process === mainService.name)
    .map((v) => v.rssPeakKb)
    .filter((k): k is number => k !== undefined);
  const peakUnderLoadKb = peaks.length > 0 ? Math.max(...peaks) : undefined;
  const targets = TARGETS.map((def) => {
    if (def.scenario === undefined) return judgeMemory(serviceIdleKb, peakUnderLoadKb);
    const scenario = results.find((r) => r.name === def.scenario);
    const found = scenario?.targets.find((t) => t.id === def.id);
    if (found) return found;
    if (!scenario) return notMeasured(def.id, `scenario ${def.scenario} was not run`);
    return notMeasured(def.id, scenario.reason ?? `scenario ${def.scenario} reported nothing`);
  });

  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const rel = (p: string) => path.relative(ROOT, p);
  const files = complete
    ? { json: path.join(RESULTS, `${stamp}.json`), markdown: path.join(BENCH, 'RESULTS.md'), svg: path.join(RESULTS, 'ratios.svg') }
    : {
        json: path.join(RESULTS, 'last-partial.json'),
        markdown: path.join(RESULTS, 'last-partial.md'),
        svg: path.join(RESULTS, 'last-partial-ratios.svg'),
      };
  const report: RunReport = {
    schema: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - t0) / 1000),
    complete,
    quick: profile.quick,
    only,
    argv: process.argv.slice(2),
    machine,
    profile,
    scenarios: results,
    targets,
    loadAverage: { start: loadAtStart, end: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    memory: {
      service: {
        idleKb: serviceIdleKb,
        peakUnderLoadKb,
        highWaterKb: mainService ? readRssKb(mainService.pid, 'VmHWM') : undefined,
      },
    },
    files: { json: rel(files.json), markdown: rel(files.markdown), svg: rel(files.svg) },
  };
  writeFileSync(files.json, `${JSON.stringify(forJson(report), null, 2)}\n`);
  writeFileSync(
    files.svg,
    ratioChart(results, `Ringfence: throughput relative to baselines (${started.toISOString().slice(0, 10)}, ${machine.cores} cores)`),
  );
  writeFileSync(files.markdown, markdown(report, path.relative(path.dirname(files.markdown), files.svg)));
  process.stdout.write(`${summary(report)}\n\n`);
  if (complete) {
    const within = report.seconds <= BUDGET_SECONDS;
    log(`full run: ${(report.seconds / 60).toFixed(1)} min, ${within ? 'within' : 'OVER'} the ${BUDGET_SECONDS / 60}-minute budget of issue 6`);
  }
  log(`wrote ${report.files.json}, ${report.files.markdown}, ${report.files.svg}`);
  if (args.compare) {
    process.stdout.write('\n');
    printComparison(args.compare, files.json);
  }
}

/** Restarts the throwaway server with pg_stat_statements loaded (planning tracked too). */
async function loadStatementStats(server: PgServer): Promise<void> {
  const client = new PgClient({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`alter system set shared_preload_libraries = pg_stat_statements, auto_explain`);
  } finally {
    await client.end();
  }
  server.crashAndRestart();
  const after = new PgClient({ connectionString: server.url });
  await after.connect();
  try {
    // Known only once the library is loaded.
    await after.query('alter system set pg_stat_statements.track_planning = on');
    await after.query("alter system set pg_stat_statements.track = 'all'");
    // A sample of the plans as executed (with timings and buffers), nested statements of functions included.
    for (const [name, value] of Object.entries({
      log_min_duration: '0',
      sample_rate: '0.003',
      log_analyze: 'on',
      log_buffers: 'on',
      log_nested_statements: 'on',
    })) {
      await after.query(`alter system set auto_explain.${name} = '${value}'`);
    }
    await after.query('select pg_reload_conf()');
    await after.query('create extension if not exists pg_stat_statements');
  } finally {
    await after.end();
  }
}

/** Every statement the run sent, with what it cost, the most expensive first. */
async function statementStats(url: string): Promise<string> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select d.datname, s.calls, s.rows, s.plans, s.total_plan_time, s.total_exec_time, s.wal_bytes, s.query
         from pg_stat_statements s join pg_database d on d.oid = s.dbid
        order by s.total_plan_time + s.total_exec_time desc limit 60`,
    );
    const ms = (v: number) => v.toFixed(1).padStart(9);
    const us = (v: number, n: number) => (n > 0 ? ((v * 1000) / n).toFixed(1) : '-').padStart(8);
    const lines = ['database         calls     rows   plans  plan ms    exec ms  plan µs/call exec µs/call  WAL B/call  statement'];
    for (const r of rows) {
      lines.push(
        `${String(r.datname).padEnd(14)} ${String(r.calls).padStart(7)} ${String(r.rows).padStart(8)} ${String(r.plans).padStart(7)} ` +
          `${ms(r.total_plan_time)} ${ms(r.total_exec_time)} ${us(r.total_plan_time, Number(r.plans))}     ${us(r.total_exec_time, Number(r.calls))}   ` +
          `${(Number(r.calls) > 0 ? (Number(r.wal_bytes) / Number(r.calls)).toFixed(0) : '-').padStart(9)}  ` +
          String(r.query).replace(/\s+/g, ' ').slice(0, 200),
      );
    }
    return `${lines.join('\n')}\n`;
  } finally {
    await client.end();
  }
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
  exitCode = 1;
} finally {
  await cleanup();
}
log(`done in ${elapsed().trim()}`);
process.exit(exitCode);
