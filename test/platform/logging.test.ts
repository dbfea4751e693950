/**
 * Logging never stops the service (issue 12): the real server (`node src/main.ts`) runs with a stdout pipe that
 * nobody reads, as when the process reading its logs has gone away. Once the pipe is full the server still answers
 * at once, and SIGTERM stops it within seconds, saying on stderr how many log lines it had to drop. Before the fix
 * the logger retried the full pipe forever in `Atomics.wait` at exit, and the process hung with SIGTERM delivered.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createDatabase, logFileFor } from '../helpers/app.ts';
import { freePort } from '../helpers/postgres.ts';
import { recordSecrets } from '../security/secrets.ts';

const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

const children: ChildProcess[] = [];
const drops: (() => Promise<void>)[] = [];
test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const drop of drops) await drop();
});

const exited = (child: ChildProcess, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

async function startServer(name: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stderrFile: string }> {
  const db = await createDatabase();
  drops.push(db.drop);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const kek = randomBytes(32).toString('hex');
  recordSecrets(name, kek);
  const stderrFile = logFileFor(`${name}-stderr`);
  const stderr = openSync(stderrFile, 'w');
  const child = spawn(NODE, [MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      BASE_URL: url,
      DATABASE_URL: db.url,
      RINGFENCE_MASTER_KEY: kek,
      ...env,
    },
    // stdout is a pipe this process never reads: once the kernel's buffer and ours are full, nothing drains it.
    stdio: ['ignore', 'pipe', stderr],
  });
  closeSync(stderr);
  children.push(child);
  child.stdout?.pause();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: see ${stderrFile}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return { child, url, stderrFile };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server was not ready within a minute: see ${stderrFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Requests, `concurrency` at a time, each of which writes a log line; answers the slowest one's time. */
async function load(url: string, requests: number, concurrency: number): Promise<number> {
  let next = 0;
  let slowest = 0;
  const worker = async () => {
    while (next < requests) {
      next++;
      const started = Date.now();
      // An unknown path: the router's 404, with its request log line, and a long path makes the line long.
      const res = await fetch(`${url}/api/v1/nothing-here/${'x'.repeat(2000)}`);
      await res.arrayBuffer();
      slowest = Math.max(slowest, Date.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return slowest;
}

test('with a stdout nobody reads, the server keeps answering and SIGTERM stops it within seconds', async (t) => {
  t.timeout(120_000);
  const { child, url, stderrFile } = await startServer('platform-logging-stalled', { LOG_LEVEL: 'trace' });
  // ~6 MB of request lines: far more than a socket's buffer, the reader's and the logger's bound together.
  await load(url, 2500, 16);
  // The pipe is full now; requests do not wait for it.
  const slowest = await load(url, 200, 8);
  t.true(slowest < 2000, `a request took ${slowest} ms with the log pipe full`);
  const health = await fetch(`${url}/healthz`);
  t.is(health.status, 200);

  const sent = Date.now();
  child.kill('SIGTERM');
  const stopped = await exited(child, 8_000);
  t.true(stopped, 'the server exited within 8 s of SIGTERM');
  if (!stopped) return;
  t.log(`exited ${Date.now() - sent} ms after SIGTERM with ${child.exitCode ?? child.signalCode}`);
  t.is(child.exitCode, 0);
  t.regex(readFileSync(stderrFile, 'utf8'), /log lines dropped/);
});

test('when a stalled reader comes back, the log says how many lines it missed', async (t) => {
  t.timeout(120_000);
  const { child, url } = await startServer('platform-logging-resumed', { LOG_LEVEL: 'info' });
  await load(url, 2500, 16);
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    out += c;
  });
  child.stdout?.resume();
  const deadline = Date.now() + 10_000;
  while (!/log lines dropped/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const report = out
    .split('\n')
    .filter((l) => l.includes('log lines dropped'))
    .map((l) => JSON.parse(l) as { level: number; dropped_lines: number });
  t.is(report.length, 1, 'one report once the reader has caught up');
  t.is(report[0]?.level, 40);
  t.true((report[0]?.dropped_lines ?? 0) > 0);
  writeFileSync(logFileFor('platform-logging-resumed-stdout'), out);
  child.kill('SIGTERM');
  t.true(await exited(child, 8_000));
});

test('with a stdout that is read, every line reaches it, the last one on shutdown included', async (t) => {
  t.timeout(60_000);
  const { child, url } = await startServer('platform-logging-read', { LOG_LEVEL: 'info' });
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  child.stdout?.resume();
  await load(url, 300, 8);
  child.kill('SIGTERM');
  t.true(await exited(child, 8_000), 'the server exited within 8 s of SIGTERM');
  t.is(child.exitCode, 0);
  await new Promise((r) => setTimeout(r, 100));
  const out = Buffer.concat(chunks).toString('utf8');
  // Kept with the other logs, for the run's secret scan.
  writeFileSync(logFileFor('platform-logging-read-stdout'), out);
  const lines = out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; path?: string });
  t.is(lines.filter((l) => l.msg === 'request' && l.path?.startsWith('/api/v1/nothing-here/')).length, 300);
  t.is(lines.at(-1)?.msg, 'stopped');
  t.false(lines.some((l) => /dropped/.test(l.msg)));
});
