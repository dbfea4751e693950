/**
 * The second Must show: a receiver that answers 500 twice and then 200 gets the event exactly once more
 * after recovery, with the same webhook-id — and nothing is lost when the server is killed (SIGKILL) and restarted
 * in between. The server runs as its own process (`node src/main.ts`) on the run's PostgreSQL; the person, the
 * service and the grant are made first by the same service in this process, on the same database and master key.
 */
import test from 'ava';
import { startServer } from '../helpers/server.ts';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createDatabase, startTestApp } from '../helpers/app.ts';
import { registerClient, subjectAt, tokensFor } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver } from '../helpers/webhooks.ts';
import { registerNamedPerson } from '../services/fixtures.ts';
import { until } from '../helpers/until.ts';

const children: ChildProcess[] = [];
let receiver: Receiver | undefined;
let db: Knex | undefined;
let drop: (() => Promise<void>) | undefined;

test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver?.close();
  await db?.destroy();
  await drop?.();
});

test('500, 500, 200 across a SIGKILL and a restart: the event arrives exactly once more after recovery, same webhook-id', async (t) => {
  t.timeout(180_000);
  const database = await createDatabase();
  drop = database.drop;
  const kek = randomBytes(32);
  receiver = await startReceiver((n) => (n < 2 ? 500 : 200));

  // Setup with the service in this process: a person, a government service with a webhook, the person's grant.
  const setup = await startTestApp({ name: 'deliveries-crash-setup', databaseUrl: database.url, kek });
  const person = await registerNamedPerson(setup, 'crash16');
  const gov = await registerClient(setup, 'government', { webhookUrl: receiver.url });
  await tokensFor(setup, gov.config, person, 'openid email address offline_access');
  const subject = await subjectAt(setup, gov.service.client_id, person.userId);
  const url = setup.url;
  await setup.close();

  const { port } = new URL(url);
  const env = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: port,
    BASE_URL: url,
    DATABASE_URL: database.url,
    RINGFENCE_MASTER_KEY: kek.toString('hex'),
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'rf-crash16-')),
    LOG_LEVEL: 'info',
  };
  db = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 2 } });
  const first = await startServer('deliveries-crash-server-1', env, url, children);

  // The one write: acknowledged with one service to tell.
  const res = await fetch(`${url}/api/v1/profile/update-info`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${person.token}` },
    body: JSON.stringify({ updated_fields: { home_address: { street_address: '1 Deer Lake Parkway', locality: 'Burnaby', country: 'CA' } } }),
  });
  const answer = (await res.json()) as { version: number; services_told: number };
  t.is(res.status, 200);
  t.is(answer.services_told, 1);

  // The first attempt fails (500), and the failure is on record; then the server dies without warning.
  await receiver.waitFor(1);
  await until('the failed attempt on record', async () => {
    const row = await db!('outbox').where({ kind: 'webhook' }).first('state', 'attempts', 'last_error');
    return row?.state === 'pending' && row.attempts === 1 && row.last_error ? row : undefined;
  });
  first.kill('SIGKILL');
  await new Promise<void>((r) => (first.exitCode !== null || first.signalCode !== null ? r() : first.once('exit', () => r())));
  t.is(first.signalCode, 'SIGKILL');

  // Restarted: the outbox picks the event up again, 500 once more, then 200.
  await startServer('deliveries-crash-server-2', env, url, children);
  await receiver.waitFor(3, 60_000);
  const delivered = await until('the delivery marked delivered', async () => {
    const row = await db!('webhook_deliveries').first('state', 'attempts', 'last_status');
    return row?.state === 'delivered' ? row : undefined;
  });
  t.like(delivered, { attempts: 3, last_status: 200 });
  // Nothing more arrives: delivered once, not again.
  await new Promise((r) => setTimeout(r, 3000));
  t.is(receiver.received.length, 3);
  t.deepEqual(
    receiver.received.map((r) => r.answered),
    [500, 500, 200],
  );
  const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
  t.is(ids.size, 1, 'every attempt carries the same webhook-id');
  const bodies = new Set(receiver.received.map((r) => r.body));
  t.is(bodies.size, 1);
  for (const r of receiver.received) {
    t.like(verified(gov.webhookSecret!, r), { type: 'profile.updated', subject, fields: ['home_address'], profile_version: answer.version });
  }
  const outbox = await db('outbox').where({ kind: 'webhook' }).select('state');
  t.deepEqual(
    outbox.map((o) => o.state),
    ['sent'],
  );
});
