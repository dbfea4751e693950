/**
 * What each benchmarked request asks of the database: the service built in this process (startService, as the
 * tests do) on a throwaway PostgreSQL, a few users seeded through the bench's own Seeder, then one request of each
 * scenario, printing every statement the request ran (knex's `query` events) and their count. A profile says where
 * the CPU goes; this says how many round trips a request costs, which on a loaded 2-core machine is most of it.
 *
 *   node bench/query-trace.ts [--sql] [--explain]
 *
 * --sql prints each statement, else only the counts; --explain also prints PostgreSQL's planning and execution
 * time of each SELECT (EXPLAIN ANALYZE, run again with the same bindings after the request).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import pg from 'pg';
import { pino } from 'pino';
import { startPostgres } from '../test/helpers/postgres.ts';
import { loadConfig } from '../src/config.ts';
import { Keyring } from '../src/crypto/envelope.ts';
import { startService } from '../src/service.ts';
import { freePort } from './lib/processes.ts';
import { Seeder } from './lib/seed.ts';

const { values: args } = parseArgs({ options: { sql: { type: 'boolean', default: false }, explain: { type: 'boolean', default: false } } });

const server = await startPostgres();
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query('create database bench_trace');
await admin.end();
const url = new URL(server.url);
url.pathname = '/bench_trace';
const databaseUrl = url.toString();
const masterKey = randomBytes(32);
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const config = loadConfig({
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  BASE_URL: baseUrl,
  RINGFENCE_MASTER_KEY: masterKey.toString('hex'),
  LOG_LEVEL: 'warn',
});
const service = await startService(config, { logger: pino({ level: 'warn' }), kek: masterKey });
const http: Server = service.app.listen(port, '127.0.0.1');
await new Promise<void>((resolve) => http.once('listening', resolve));

const db = knexFactory({ client: 'pg', connection: { connectionString: databaseUrl }, pool: { min: 0, max: 4 } });
const seeder = new Seeder({ db, keyring: new Keyring(masterKey), masterKey, serviceUrl: baseUrl, log: () => undefined });
try {
  await seeder.registerViaApi(2);
  await seeder.ensureUsers(20);
  const [data] = await seeder.dataApiSessions(1, 1);
  const [owner] = await seeder.sessions(1);
  const [client] = await seeder.ensureServices(1);

  let statements: { sql: string; bindings: unknown[] }[] = [];
  // The outbox worker's polls run beside the request, not for it.
  service.deps.db.on('query', (q: { sql: string; bindings?: unknown[] }) => {
    if (!q.sql.startsWith('update outbox')) statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
  });
  const explain = async (sql: string, bindings: unknown[]) => {
    const { rows } = (await db.raw(`explain (analyze, format json) ${sql.replace(/\$\d+/g, '?')}`, bindings as never[])) as {
      rows: { 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number }] }[];
    };
    const plan = rows[0]['QUERY PLAN'][0];
    return `planning ${plan['Planning Time'].toFixed(3)} ms, execution ${plan['Execution Time'].toFixed(3)} ms`;
  };
  const trace = async (label: string, path: string, init: RequestInit = {}) => {
    // Warm once (caches, prepared validators), then count.
    for (const pass of ['warm', 'count']) {
      statements = [];
      const res = await fetch(baseUrl + path, init);
      await res.arrayBuffer();
      if (pass === 'count') {
        process.stdout.write(`${String(statements.length).padStart(3)} statements  ${label} (${res.status})\n`);
        for (const s of statements) {
          if (args.sql) process.stdout.write(`      ${s.sql.replace(/\s+/g, ' ').slice(0, 220)}\n`);
          if (args.explain && /^\s*select/i.test(s.sql)) process.stdout.write(`        ${await explain(s.sql, s.bindings)}\n`);
        }
      }
    }
  };
  await trace('GET /api/v1/data/profile (service token)', '/api/v1/data/profile', { headers: { authorization: `Bearer ${data.token}` } });
  await trace('GET /api/v1/profile (owner)', '/api/v1/profile', { headers: { authorization: `Bearer ${owner.token}` } });
  await trace('PUT /api/v1/profile/update-info', '/api/v1/profile/update-info', {
    method: 'PUT',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ updated_fields: { bio: `Trace ${Date.now()}` } }),
  });
  await trace('GET /readyz', '/readyz');
  await trace('POST /oidc/token (client credentials)', '/oidc/token', {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
} finally {
  await new Promise((r) => http.close(r));
  await service.close();
  await db.destroy();
  server.stop();
}
