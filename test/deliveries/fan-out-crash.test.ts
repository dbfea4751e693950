/**
 * The fan-out survives a SIGKILL between the commit and the expansion: the update answers with the job committed,
 * the worker starts expanding it and the server dies in the middle (its expansion held up on the deliveries table
 * by this test, so the kill lands there and nowhere else); after a restart the job is expanded once, and each
 * service gets its event once. The server runs as its own process (`node src/main.ts`) on the run's PostgreSQL.
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createDatabase, startTestApp } from '../helpers/app.ts';
import { registerClient, subjectAt, tokensFor } from '../helpers/oidc.ts';
import { startServer } from '../helpers/server.ts';
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

const count = async (q: Knex, table: string, where: Record<string, string> = {}) => Number((await q(table).where(where).count({ n: '*' }))[0].n);

test('SIGKILL in the middle of a fan-out: after the restart each service is told once, nothing lost, nothing twice', async (t) => {
  t.timeout(180_000);
  const database = await createDatabase();
  drop = database.drop;
  const kek = randomBytes(32);
  receiver = await startReceiver();

  // Setup with the service in this process: a person who granted three government services with webhooks.
  const setup = await startTestApp({ name: 'fan-out-crash-setup', databaseUrl: database.url, kek });
  const person = await registerNamedPerson(setup, 'fancrash16');
  const services = [];
  for (let i = 0; i < 3; i++) {
    const gov = await registerClient(setup, 'government', { webhookUrl: receiver.url });
    await tokensFor(setup, gov.config, person, 'openid address offline_access');
    services.push({
      clientId: gov.service.client_id,
      secret: gov.webhookSecret!,
      subject: await subjectAt(setup, gov.service.client_id, person.userId),
    });
  }
  const url = setup.url;
  await setup.close();

  const env = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: new URL(url).port,
    BASE_URL: url,
    DATABASE_URL: database.url,
    RINGFENCE_MASTER_KEY: kek.toString('hex'),
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'rf-fancrash16-')),
    LOG_LEVEL: 'info',
  };
  db = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 3 } });
  const first = await startServer('fan-out-crash-server-1', env, url, children);

  // The deliveries table held in SHARE mode: the update (which writes no delivery) goes through, the expansion waits.
  const hold = await db.transaction();
  await hold.raw('lock table webhook_deliveries in share mode');
  const res = await fetch(`${url}/api/v1/profile/update-info`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${person.token}` },
    body: JSON.stringify({ updated_fields: { home_address: { street_address: '1 Deer Lake Parkway', locality: 'Burnaby', country: 'CA' } } }),
  });
  const answer = (await res.json()) as { version: number; services_told: number };
  t.is(res.status, 200);
  t.is(answer.services_told, 3);

  // The worker has claimed the job and is writing its deliveries, stuck behind the lock: the server dies now.
  await until('the expansion waiting on the deliveries table', async () => {
    const { rows } = await db!.raw(`select count(*)::int as n from pg_locks where relation = 'webhook_deliveries'::regclass and not granted`);
    return rows[0].n > 0 ? true : undefined;
  });
  t.like(await db('outbox').where({ kind: 'webhook_fanout' }).first('state', 'attempts'), { state: 'pending', attempts: 1 });
  first.kill('SIGKILL');
  await new Promise<void>((r) => (first.exitCode !== null || first.signalCode !== null ? r() : first.once('exit', () => r())));
  t.is(first.signalCode, 'SIGKILL');
  await hold.commit();

  // Nothing of the dead expansion is left, and the job is still owed.
  t.is(await count(db, 'webhook_deliveries'), 0);
  t.is(await count(db, 'outbox', { kind: 'webhook' }), 0);
  t.is(await count(db, 'outbox', { kind: 'webhook_fanout', state: 'pending' }), 1);
  t.is(receiver.received.length, 0);
  // The dead worker's lease on the job (60 s) runs out; instead of waiting a minute, it is made due now.
  await db('outbox').where({ kind: 'webhook_fanout' }).update({ next_attempt_at: db.fn.now() });

  // Restarted: the job is expanded once, and each service gets its event once.
  await startServer('fan-out-crash-server-2', env, url, children);
  const got = await receiver.waitFor(3, 60_000);
  await until('every delivery marked delivered', async () =>
    (await count(db!, 'webhook_deliveries', { state: 'delivered' })) === 3 ? true : undefined,
  );
  await new Promise((r) => setTimeout(r, 2000));
  t.is(receiver.received.length, 3, 'nothing arrives twice');
  t.is(new Set(got.map((h) => h.headers['webhook-id'])).size, 3);
  for (const s of services) {
    const mine = got.filter((h) => {
      try {
        verified(s.secret, h);
        return true;
      } catch {
        return false;
      }
    });
    t.is(mine.length, 1, 'each service is told once');
    t.like(verified(s.secret, mine[0]), { type: 'profile.updated', subject: s.subject, fields: ['home_address'], profile_version: answer.version });
  }
  t.is(await count(db, 'webhook_deliveries'), 3);
  t.deepEqual(
    (await db('outbox').where({ kind: 'webhook_fanout' }).select('state', 'attempts')).map((r) => [r.state, r.attempts]),
    [['sent', 2]],
  );
});
