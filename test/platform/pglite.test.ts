/**
 * The embedded default: PGlite in DATA_DIR. Migrations and a request work on it, what was written survives a
 * restart, a second process is refused with a plain sentence, and `npm start`'s entry point serves and stops.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService } from '../../src/service.ts';
import { openStore } from '../../src/store/db.ts';
import { DataDirLocked } from '../../src/store/lock.ts';

const logger = pino({ level: 'silent' });
const root = new URL('../../', import.meta.url).pathname;

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'ringfence-pglite-'));
}

test.serial('migrations and a request run on PGlite; writes survive a restart', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dir, NODE_ENV: 'development' });

  const first = await startService(config, { logger });
  t.is(first.deps.storeKind, 'pglite');
  const server = first.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/readyz`);
  t.deepEqual(await res.json(), { status: 'success', database: 'pglite', migrations: 'current' });
  await first.deps.outbox.enqueueMail(first.deps.db, { to: 'a@example.test', subject: 'kept', text: 'x' }, 'persist-1');
  await new Promise((r) => server.close(r));
  await first.close();
  t.true(existsSync(path.join(dir, 'master.key')), 'a development master key was generated into DATA_DIR');

  const second = await startService(config, { logger });
  const row = await second.deps.db('outbox').where({ idempotency_key: 'persist-1' }).first();
  t.is(row?.subject, 'kept');
  // The same generated KEK is used again, so what it sealed still opens.
  t.is(second.deps.outbox.openPayload(row).subject, 'kept');
  await second.close();
});

test.serial('a second process on the same DATA_DIR is refused with what to do', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dir });
  const holder = await openStore(config);
  t.teardown(() => holder.close());
  const child = spawnSync(
    process.execPath,
    [
      '-e',
      `
    const { openStore } = await import(${JSON.stringify(path.join(root, 'src/store/db.ts'))});
    const { loadConfig } = await import(${JSON.stringify(path.join(root, 'src/config.ts'))});
    try { await openStore(loadConfig({ DATA_DIR: ${JSON.stringify(dir)} })); console.log('opened'); }
    catch (e) { console.log(e.name + ': ' + e.message); process.exit(3); }
  `,
    ],
    { encoding: 'utf8', input: '' },
  );
  t.is(child.status, 3, child.stdout + child.stderr);
  t.regex(child.stdout, new RegExp(`${DataDirLocked.name}: the embedded database in .* is in use by process ${process.pid}`));
  t.regex(child.stdout, /Stop that process/);
});

function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test.serial('the service entry point serves healthz and readyz on PGlite and stops cleanly on SIGTERM', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [path.join(root, 'src/main.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH, DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = waitForExit(child);
  t.teardown(() => child.kill('SIGKILL'));

  // Start-up time is measured by the benchmark, not asserted here: the wait only bounds a hung start.
  const started = Date.now();
  let health: Response | undefined;
  while (Date.now() - started < 90_000) {
    try {
      health = await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.is(health?.status, 200, output);
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  t.is(ready.status, 200);
  t.regex(output, /generated a development master key/);

  child.kill('SIGTERM');
  t.is(await exited, 0, output);
});

test('a bad configuration stops start-up with each problem named', (t) => {
  const res = spawnSync(process.execPath, [path.join(root, 'src/main.ts')], {
    env: { PATH: process.env.PATH, PORT: 'abc', LOG_LEVEL: 'chatty' },
    encoding: 'utf8',
  });
  t.is(res.status, 2);
  t.regex(res.stderr, /PORT must be a whole number/);
  t.regex(res.stderr, /LOG_LEVEL must be one of/);
  t.notRegex(res.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('a failing PGlite query is logged without its bound values', async (t) => {
  const store = await openStore(loadConfig({ NODE_ENV: 'test' }), { inMemory: true });
  t.teardown(() => store.close());
  const secret = 'reset-token-kX2Q9v0T3bN6mC1zL8aP5sD7fG4hJ0wE';
  // A unique violation on a bound value: PGlite's error object names the statement and, unless stripped, its values.
  await store.db.raw('create table t (v text primary key)');
  await store.db('t').insert({ v: secret });
  const err = await t.throwsAsync(store.db('t').insert({ v: secret }));
  t.is((err as unknown as { code?: string }).code, '23505', 'PostgreSQL’s code stays for callers that branch on it');
  const lines: string[] = [];
  const log = createLogger({ logLevel: 'error' }, { write: (line: string) => void lines.push(line) });
  log.error({ err }, 'query failed');
  t.is(lines.length, 1);
  t.false(lines[0].includes(secret), lines[0]);
  t.false('params' in (err as object));
  t.false(String((err as { detail?: unknown }).detail ?? '').includes(secret));
});
