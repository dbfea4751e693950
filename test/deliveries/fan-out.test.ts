/**
 * A change told to many services: the update's transaction writes one fan-out job whatever their number, and as
 * many statements for thirty services as for one; the outbox worker expands the job into one delivery per service
 * right after, idempotently; each service gets its own event — signed with its own secret, under its own webhook-id
 * and its own subject. And a webhook request whose outbox lease another worker took over is aborted, not counted
 * against the endpoint.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { deliveriesSender } from '../../src/features/deliveries/sender.ts';
import { OutboxWorker } from '../../src/notify/outbox.ts';
import { useTestApp } from '../helpers/app.ts';
import { storeGrant } from './fixtures.ts';
import { addService, subjectAt } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver } from '../helpers/webhooks.ts';
import { registerNamedPerson } from '../services/fixtures.ts';
import { until } from '../helpers/until.ts';

const app = useTestApp();
const receivers: Receiver[] = [];
test.after.always(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** `n` government services with a webhook to `to`, each granted by the person; their secrets by client id. */
async function subscribed(userId: string, n: number, to: Receiver): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const { service, webhookSecret } = await addService(app, 'government', { webhookUrl: to.url });
    secrets.set(service.client_id, webhookSecret!);
    await storeGrant(app, userId, service.client_id);
  }
  return secrets;
}

/** Which service each event is for (the one whose secret verifies it), and the event. */
function byService(t: { is: (a: unknown, b: unknown, m?: string) => void }, secrets: Map<string, string>, hooks: Parameters<typeof verified>[1][]) {
  const out = new Map<string, ReturnType<typeof verified>>();
  for (const hook of hooks) {
    const match = [...secrets].filter(([, secret]) => {
      try {
        verified(secret, hook);
        return true;
      } catch {
        return false;
      }
    });
    t.is(match.length, 1, 'each event verifies with exactly one service secret');
    out.set(match[0][0], verified(match[0][1], hook));
  }
  return out;
}

const moveTo = (locality: string) => ({ updated_fields: { home_address: { locality, country: 'CA' } } });

test.serial('one update told to 30 services: one row in the transaction, 30 signed events after it', async (t) => {
  const hooks = await receiver();
  const person = await registerNamedPerson(app, 'fan16');
  const db = app.service.deps.db;
  const secrets = await subscribed(person.userId, 30, hooks);
  const update = await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: moveTo('Surrey') });
  t.is(update.body.services_told, 30);
  const got = await hooks.waitFor(30);
  const events = byService(t, secrets, got);
  t.is(events.size, 30);
  t.is(new Set(got.map((h) => h.headers['webhook-id'])).size, 30);
  for (const [clientId, event] of events) {
    t.like(event, { type: 'profile.updated', fields: ['home_address'], subject: await subjectAt(app, clientId, person.userId) });
  }
  const fanOut = await db('outbox').where({ kind: 'webhook_fanout' }).select('state');
  t.deepEqual(
    fanOut.map((r) => r.state),
    ['sent'],
  );
  const deliveries = await app.request('GET', '/api/v1/profile/deliveries?limit=100', { token: person.token });
  t.is(deliveries.body.deliveries.filter((d: { state: string }) => d.state === 'delivered').length, 30);
});

test.serial('the update does as many statements for 30 services as for one, and writes no delivery itself', async (t) => {
  const hooks = await receiver();
  const db = app.service.deps.db;
  const one = await registerNamedPerson(app, 'fan16_one');
  const thirty = await registerNamedPerson(app, 'fan16_thirty');
  await subscribed(one.userId, 1, hooks);
  await subscribed(thirty.userId, 30, hooks);
  // Without a worker, what the request itself wrote stays as it left it.
  await app.service.worker.stop();
  let statements = 0;
  const count = () => statements++;
  const update = async (token: string) => {
    statements = 0;
    db.on('query', count);
    try {
      return await app.request('PUT', '/api/v1/profile/update-info', { token, json: moveTo('Delta') });
    } finally {
      db.off('query', count);
    }
  };
  try {
    const a = await update(one.token);
    const forOne = statements;
    const b = await update(thirty.token);
    const forThirty = statements;
    t.is(a.body.services_told, 1);
    t.is(b.body.services_told, 30);
    t.true(forOne > 5, `the statements are counted (${forOne})`);
    t.is(forThirty, forOne, 'the number of statements does not grow with the number of services');
    t.is(Number((await db('webhook_deliveries').whereIn('user_id', [one.userId, thirty.userId]).count({ n: '*' }))[0].n), 0);
    t.is(Number((await db('outbox').where({ kind: 'webhook_fanout', state: 'pending' }).count({ n: '*' }))[0].n), 2);
  } finally {
    app.service.worker.start();
  }
  // The worker expands both jobs: 31 events.
  await hooks.waitFor(31);
  t.is(Number((await db('webhook_deliveries').whereIn('user_id', [one.userId, thirty.userId]).count({ n: '*' }))[0].n), 31);
});

test.serial('a fan-out expanded twice — by two workers at once, or again after it ended — writes each delivery once', async (t) => {
  const hooks = await receiver();
  const { deps } = app.service;
  const person = await registerNamedPerson(app, 'fan16_twice');
  const secrets = await subscribed(person.userId, 25, hooks);
  await app.service.worker.stop();
  let version = 0;
  try {
    const update = await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: moveTo('Langley') });
    t.is(update.body.services_told, 25);
    version = update.body.version;
    const row = await deps.db('outbox').where({ kind: 'webhook_fanout', state: 'pending' }).first();
    const payload = deps.outbox.openWebhookFanOut(row);
    t.like(payload, { type: 'profile.updated', userId: person.userId, version, fields: ['home_address'] });
    t.false(JSON.stringify(payload).includes('Langley'), 'the job names fields, never values');
    // The worker's own expansion, as the service assembles it.
    const sender = deliveriesSender(deps);
    const written = await Promise.all([sender.expand(row.id, payload, row.claim), sender.expand(row.id, payload, row.claim)]);
    t.deepEqual(
      written.sort((x, y) => x - y),
      [0, 25],
      'the second waits for the first, then finds the job done',
    );
    // As if the job's end were lost: expanded again, into the same deliveries.
    await deps.db('outbox').where({ id: row.id }).update({ state: 'pending' });
    t.is(await sender.expand(row.id, payload, row.claim), 25);
    const deliveries = await deps.db('webhook_deliveries').where({ user_id: person.userId, profile_version: version }).pluck('id');
    t.is(deliveries.length, 25);
    const queued = await deps
      .db('outbox')
      .where({ kind: 'webhook' })
      .whereIn(
        'idempotency_key',
        deliveries.map((id: string) => `webhook:${id}`),
      );
    t.is(queued.length, 25);
  } finally {
    app.service.worker.start();
  }
  const got = await hooks.waitFor(25);
  await new Promise((r) => setTimeout(r, 500));
  t.is(hooks.received.length, 25, 'each service is told once');
  t.is(byService(t, secrets, got).size, 25);
  t.is(new Set(got.map((h) => h.headers['webhook-id'])).size, 25);
});

test.serial('a custom ring that admits one service: only it is counted and told; a service with two grants, once', async (t) => {
  const hooks = await receiver();
  const person = await registerNamedPerson(app, 'fan16_ring');
  const secrets = await subscribed(person.userId, 3, hooks);
  const [admitted, other] = [...secrets.keys()];
  // A second live grant to the first service (a consent in another session): still one service, one event.
  await storeGrant(app, person.userId, admitted);
  const ring = await app.request('POST', '/api/v1/profile/privilege-rings', {
    token: person.token,
    json: { ring_name: 'Land registry only', assigned_data: { fields: ['home_address'], services: [admitted] } },
  });
  t.is(ring.status, 201, ring.text);
  const update = await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: moveTo('Abbotsford') });
  t.is(update.body.services_told, 1, 'the ring admits one service of the three');
  const [hook] = await hooks.waitFor(1);
  t.like(verified(secrets.get(admitted)!, hook), { type: 'profile.updated', fields: ['home_address'] });
  await new Promise((r) => setTimeout(r, 500));
  t.is(hooks.received.length, 1, `${other} and the third service are not told: they cannot read home_address now`);
});

test.serial('a webhook request under a lease another worker took over is aborted, not counted against the endpoint, and not marked', async (t) => {
  t.timeout(60_000);
  const { deps } = app.service;
  // The service's endpoint holds its first request open (a slow receiver); later ones are answered 200.
  const requests: { closed: boolean }[] = [];
  const slow = createServer((req, res) => {
    const seen = { closed: false };
    requests.push(seen);
    req.resume();
    if (requests.length > 1) {
      res.end();
      return;
    }
    res.on('close', () => {
      seen.closed = !res.writableFinished;
    });
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        slow.closeAllConnections();
        slow.close(() => r());
      }),
  );
  const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}/hooks`;
  const person = await registerNamedPerson(app, 'fan16_lease');
  await subscribed(person.userId, 1, { url } as Receiver);
  await app.service.worker.stop();
  const worker = new OutboxWorker({
    db: deps.db,
    outbox: deps.outbox,
    logger: deps.logger,
    transport: undefined,
    from: 'rf@example.test',
    leaseSeconds: 1,
    // Far longer than the test: only the lost lease can end the request.
    webhook: deliveriesSender(deps, 10 * 60_000),
  });
  try {
    const update = await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: moveTo('Hope') });
    t.is(update.body.services_told, 1);
    t.is(await worker.runOnce(), 1, 'the fan-out is expanded into its one delivery');
    const delivery = await deps.db('webhook_deliveries').where({ user_id: person.userId }).first('id', 'client_id');
    const pass = worker.runOnce();
    await until('the request to reach the endpoint', async () => (requests.length === 1 ? true : undefined));
    // Another worker takes the message over: its claim token replaces this worker's.
    const holder = randomUUID();
    t.is(
      await deps
        .db('outbox')
        .where({ idempotency_key: `webhook:${delivery.id}` })
        .update({ claim: holder }),
      1,
    );
    t.is(await pass, 0, 'the heartbeat finds the lease lost and the request is aborted');
    await until('the endpoint to see the request cut off', async () => (requests[0].closed ? true : undefined), 10_000);
    const row = await deps
      .db('outbox')
      .where({ idempotency_key: `webhook:${delivery.id}` })
      .first('state', 'claim', 'last_error');
    t.like(row, { state: 'pending', claim: holder, last_error: null }, "the holder's claim stands; nothing was written over it");
    t.is(worker.lostFences, 1);
    const endpoint = await deps.db('webhook_endpoints').where({ client_id: delivery.client_id }).first('failures', 'disabled_at');
    t.like(endpoint, { failures: 0, disabled_at: null }, 'a lost lease is not the endpoint failing');
    // Let the holder's "lease" end: the next claim delivers it (answered 200 now), once.
    await deps
      .db('outbox')
      .where({ idempotency_key: `webhook:${delivery.id}` })
      .update({ next_attempt_at: deps.db.fn.now() });
    t.is(await worker.runOnce(), 1);
    t.is((await deps.db('webhook_deliveries').where({ id: delivery.id }).first('state')).state, 'delivered');
  } finally {
    await worker.stop();
    app.service.worker.start();
  }
});
