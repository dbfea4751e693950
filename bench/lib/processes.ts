/**
 * The benchmark's child processes: the service, the baselines, the load generator. Every one is registered here
 * so that a failure or Ctrl-C stops them all; none outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** The project's own Node.js (the `node` dependency), the same one `npm start` runs the service with. */
export const NODE = path.join(ROOT, 'node_modules/.bin/node');

const running = new Set<ChildProcess>();

/** A free loopback port: the test harness's. */
export { freePort } from '../../test/helpers/postgres.ts';

/** The environment every child starts from: nothing inherited that could change what it measures (NODE_OPTIONS, a stray DATABASE_URL). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    // node_modules/.bin first, so `#!/usr/bin/env node` scripts (autocannon) run on the project's Node too.
    PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  };
  for (const key of ['HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[key]) env[key] = process.env[key]!;
  return env;
}

/** Resident set size of a process in KiB (VmRSS, or VmHWM for its peak), or undefined once it is gone. */
export function readRssKb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: /proc reports CPU times in these ticks per second on every Linux architecture. */
const TICKS_PER_SECOND = 100;

/**
 * [parent pid, user + system CPU ms, CPU ms of its exited and reaped children] of a process from /proc/<pid>/stat,
 * or undefined once it is gone.
 */
function statOf(pid: number | string): [number, number, number] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces: state ppid … utime stime
    // cutime cstime.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (ticks: string) => (Number(ticks) * 1000) / TICKS_PER_SECOND;
    return [Number(f[1]), ms(f[11]) + ms(f[12]), ms(f[13]) + ms(f[14])];
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used, in ms; undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  return statOf(pid)?.[1];
}

/**
 * CPU time of a process and of its children, in ms: a PostgreSQL postmaster and the backends it forked for every
 * connection, live ones from their own counters and exited ones from the postmaster's (it reaps them), so a pool
 * closing idle connections between two readings takes nothing away.
 */
export function treeCpuMs(rootPid: number): number | undefined {
  const root = statOf(rootPid);
  if (!root) return undefined;
  let total = root[1] + root[2];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = statOf(entry);
    if (st && st[0] === rootPid) total += st[1];
  }
  return total;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  logFile: string;
  /** How it ended, once it has: `exited with code 1`, `exited with SIGKILL`; undefined while it runs. */
  exitStatus(): string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Script path relative to the repository root, run with the project's Node. */
  script: string;
  args?: string[];
  /** Options for Node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  env: Record<string, string>;
  port: number;
  /** Polled until it answers 200. */
  readyPath: string;
  logDir: string;
  readyTimeoutMs?: number;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Spawns a registered child; resolves when it exits (with its code and signal). */
export function spawnRegistered(
  command: string,
  args: string[],
  options: Parameters<typeof spawn>[2],
): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(command, args, options);
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', () => resolve({ code: -1, signal: null }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  }).finally(() => running.delete(child));
  return { child, exited };
}

/** Starts a long-running Node process (service or baseline) and waits until it is ready. */
export async function startProcess(o: StartOptions): Promise<ManagedProcess> {
  const logFile = path.join(o.logDir, `${o.name}.log`);
  const fd = openSync(logFile, 'a');
  const { child, exited } = spawnRegistered(NODE, [...(o.nodeArgs ?? []), o.script, ...(o.args ?? [])], {
    cwd: ROOT,
    env: { ...baseEnv(), ...o.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${o.port}`;
  let gone: string | undefined;
  void exited.then(({ code, signal }) => {
    gone = `exited with ${signal ?? `code ${code}`}`;
  });

  const deadline = Date.now() + (o.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (gone) throw new Error(`${o.name} ${gone} before it was ready; its log (${logFile}) ends:\n${tail(logFile)}`);
    try {
      const res = await fetch(url + o.readyPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} was not ready at ${url}${o.readyPath} in time; its log (${logFile}) ends:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    name: o.name,
    pid: child.pid!,
    url,
    logFile,
    exitStatus: () => gone,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** Stops every child still running: politely, then for good after a few seconds. */
export async function stopAll(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGTERM');
  const deadline = Date.now() + 5000;
  while (running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  killAllNow();
}

/** Last resort on process exit: SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
