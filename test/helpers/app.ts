/**
 * The service under test, in this process: a fresh database on the run's PostgreSQL, a real SMTP sink, the app on
 * an ephemeral port, and an HTTP client that checks every response it sees against openapi.yaml.
 */
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { OpenApi } from '../../src/http/openapi.ts';
import { startService, type Service } from '../../src/service.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { migrateLatest } from '../../src/store/migrations.ts';
import { freePort } from './postgres.ts';
import { startSmtpSink, type SmtpSink } from './smtp.ts';
import { standIn } from './stand-in.ts';

export const spec = OpenApi.load();
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  multipart?: FormData;
  /** Raw body with its content type, for malformed-input tests. */
  raw?: { body: string | Buffer; type: string };
  token?: string;
  headers?: Record<string, string>;
  /** Skip the spec check, for requests that deliberately reach no operation. */
  unchecked?: boolean;
}

export interface TestApp {
  url: string;
  service: Service;
  config: Config;
  databaseUrl: string;
  /** The key-encryption key the service runs with (a CLI run against the same database needs it). */
  kek: Buffer;
  /** The SMTP sink the app mails to; only an app started with `{ smtp: true }` has one. */
  readonly smtp: SmtpSink;
  /** Problems found while checking responses against the spec; the harness fails the test on any. */
  specProblems: string[];
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  close(): Promise<void>;
}

/** Makes an empty database on the run's server and returns its URL. */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.RINGFENCE_TEST_ADMIN_URL;
  if (!admin) throw new Error('RINGFENCE_TEST_ADMIN_URL is not set: run the tests with `npm test`');
  const name = `rf_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * For tests of the layers under the app: a store on a fresh, migrated database of the run's server (or, `embedded`,
 * on PGlite in memory), opened before the file's tests and closed (and dropped) after them. Call at the top of a
 * test file; `migrate: false` leaves the database empty.
 */
export function useMigratedStore(options: { embedded?: boolean; migrate?: boolean } = {}): Store {
  const store = standIn<Store>('the store');
  let opened: Store | undefined;
  let drop: (() => Promise<void>) | undefined;
  test.serial.before(async () => {
    if (options.embedded) {
      opened = await openStore(loadConfig({ NODE_ENV: 'development' }), { inMemory: true });
    } else {
      const db = await createDatabase();
      drop = db.drop;
      opened = await openStore(loadConfig({ DATABASE_URL: db.url }));
    }
    if (options.migrate !== false) await migrateLatest(opened.db);
    store.set(opened);
  });
  test.after.always(async () => {
    await opened?.close();
    await drop?.();
  });
  return store.value;
}

export function logFileFor(name: string): string {
  const dir = path.join(ARTIFACTS, 'logs');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name.replace(/[^a-z0-9_.-]+/gi, '_')}.log`);
}

export interface TestAppOptions {
  /** The log file's name (test/artifacts/logs/<name>.log); by default the test file's path under test/. */
  name?: string;
  /** Configuration overrides, as environment variables. */
  env?: Record<string, string>;
  /** Start a real SMTP sink and send the app's mail to it (`app.smtp`); without one, mail stays in the outbox. */
  smtp?: boolean;
  /**
   * A restart: run on this existing database (another TestApp's, which keeps ownership and drops it) instead of
   * a fresh one. Pass that app's `kek` too, or nothing sealed there opens.
   */
  databaseUrl?: string;
  kek?: Buffer;
}

/** The test file's path under test/, as a log name: test/accounts/loginUser.throttle.test.ts → accounts-loginUser-throttle. */
function testFileName(): string {
  const file = fileURLToPath(test.meta.file);
  return path
    .relative(fileURLToPath(new URL('../', import.meta.url)), file)
    .replace(/\.test\.ts$/, '')
    .replace(/[/.]/g, '-');
}

/**
 * The HTTP client of a test app: requests to `url`, every response checked against openapi.yaml (problems kept in
 * `specProblems` and thrown). Also for servers in other processes (test/helpers/server.ts).
 */
export function specCheckedClient(url: string, specProblems: string[] = []): TestApp['request'] {
  return async function request<T>(method: string, urlPath: string, options: RequestOptions = {}): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = new URLSearchParams(options.form);
    } else if (options.multipart) {
      body = options.multipart;
    } else if (options.raw) {
      headers['content-type'] = options.raw.type;
      body = options.raw.body as BodyInit;
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(url + urlPath, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (type.startsWith('application/json')) parsed = text ? JSON.parse(text) : undefined;
    if (!options.unchecked) {
      const op = spec.findOperation(method, new URL(url + urlPath).pathname);
      const problems = op ? spec.validateResponse(op, res.status, type, parsed === '' ? undefined : parsed) : [];
      if (problems.length > 0) {
        specProblems.push(...problems);
        throw new Error(`response breaks openapi.yaml: ${problems.join('; ')}\n${text.slice(0, 500)}`);
      }
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };
}

/** Starts the service on a fresh database (or `options.databaseUrl`); the caller closes it. Most files want `useTestApp`. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const name = options.name ?? testFileName();
  const env = options.env ?? {};
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => {} } : await createDatabase();
  const kek = options.kek ?? randomBytes(32);
  const smtp = options.smtp ? await startSmtpSink() : undefined;
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    ...(smtp ? { SMTP_URL: smtp.url } : {}),
    LOG_LEVEL: 'info',
    BASE_URL: `http://127.0.0.1:${port}`,
    // Every test registers from 127.0.0.1; the limit's own tests set it low.
    REGISTRATIONS_PER_ADDRESS: '100000',
    ...env,
  });
  const logger = createLogger(config, pino.destination({ dest: logFileFor(name), sync: true }));
  const service = await startService(config, { logger, kek, outboxPollMs: 100 });
  const server: Server = service.app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${port}`;
  const specProblems: string[] = [];

  const request = specCheckedClient(url, specProblems);

  return {
    url,
    service,
    config,
    databaseUrl: database.url,
    kek,
    get smtp(): SmtpSink {
      if (!smtp) throw new Error(`${name} has no SMTP sink: start it with { smtp: true }`);
      return smtp;
    },
    specProblems,
    request,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await service.close();
      await smtp?.close();
      await database.drop();
    },
  };
}

/**
 * The test file's app: registers the hooks that start it before the file's tests (a serial hook, so the file's own
 * `test.before` hooks run after it and may use it) and close it, database and SMTP sink included, after them.
 * Call once at the top of a test file. Options as `startTestApp`'s.
 */
export function useTestApp(options: Omit<TestAppOptions, 'databaseUrl' | 'kek'> = {}): TestApp {
  const app = standIn<TestApp>('the test app');
  let started: TestApp | undefined;
  test.serial.before(async () => {
    started = await startTestApp(options);
    app.set(started);
  });
  test.after.always(async () => {
    await started?.close();
  });
  return app.value;
}
