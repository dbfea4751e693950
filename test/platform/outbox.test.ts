import test from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import nodemailer from 'nodemailer';
import { Keyring } from '../../src/crypto/envelope.ts';
import { Outbox, OutboxWorker, backoffSeconds } from '../../src/notify/outbox.ts';
import { withTransaction } from '../../src/store/db.ts';
import { useMigratedStore } from '../helpers/app.ts';
import { startSmtpSink, useSmtpSink } from '../helpers/smtp.ts';
import { until } from '../helpers/until.ts';
import { deliveryTimeoutMs } from '../../src/notify/mailer.ts';

const store = useMigratedStore();
const smtp = useSmtpSink();
const keyring = new Keyring(randomBytes(32));
const logger = pino({ level: 'silent' });

test.serial('mail enqueued in a transaction is delivered once through SMTP, sealed at rest', async (t) => {
  const outbox = new Outbox(keyring);
  await withTransaction(store.db, (trx) => outbox.enqueueMail(trx, { to: 'ada@example.test', subject: 'Your code', text: 'code 123456' }, 'k-1'));
  // The same idempotency key again is ignored.
  await outbox.enqueueMail(store.db, { to: 'ada@example.test', subject: 'Your code', text: 'code 123456' }, 'k-1');
  const row = await store.db('outbox').where({ idempotency_key: 'k-1' }).first();
  t.false(Buffer.from(row.payload).toString('latin1').includes('123456'), 'the body is not stored in clear');

  const worker = new OutboxWorker({ db: store.db, outbox, logger, transport: nodemailer.createTransport(smtp.url), from: 'rf@example.test' });
  t.is(await worker.runOnce(), 1);
  t.is(await worker.runOnce(), 0);
  const mail = await smtp.waitFor((m) => m.subject === 'Your code');
  t.regex(mail.text ?? '', /code 123456/);
  t.is(mail.messageId, '<k-1@ringfence>');
  t.is(smtp.messages.filter((m) => m.subject === 'Your code').length, 1);
  t.is((await store.db('outbox').where({ idempotency_key: 'k-1' }).first()).state, 'sent');
});

test.serial('a rolled-back transaction enqueues nothing', async (t) => {
  const outbox = new Outbox(keyring);
  await t.throwsAsync(
    withTransaction(store.db, async (trx) => {
      await outbox.enqueueMail(trx, { to: 'x@example.test', subject: 'never', text: 'never' }, 'k-rollback');
      throw new Error('abort');
    }),
  );
  t.falsy(await store.db('outbox').where({ idempotency_key: 'k-rollback' }).first());
});

test.serial('a failed delivery is retried later with backoff, then delivered', async (t) => {
  const outbox = new Outbox(keyring);
  await outbox.enqueueMail(store.db, { to: 'bob@example.test', subject: 'Retry me', text: 'hello' }, 'k-2');
  // Nothing listens on this port: the first attempt fails.
  const dead = nodemailer.createTransport({ host: '127.0.0.1', port: 9, connectionTimeout: 500 });
  const failing = new OutboxWorker({ db: store.db, outbox, logger, transport: dead, from: 'rf@example.test' });
  t.is(await failing.runOnce(), 0);
  const row = await store.db('outbox').where({ idempotency_key: 'k-2' }).first();
  t.is(row.state, 'pending');
  t.is(row.attempts, 1);
  t.truthy(row.last_error);
  t.true(new Date(row.next_attempt_at).getTime() > Date.now(), 'not due again at once');

  // Make it due now and deliver through the real sink.
  await store.db('outbox').where({ idempotency_key: 'k-2' }).update({ next_attempt_at: store.db.fn.now() });
  const worker = new OutboxWorker({ db: store.db, outbox, logger, transport: nodemailer.createTransport(smtp.url), from: 'rf@example.test' });
  t.is(await worker.runOnce(), 1);
  await smtp.waitFor((m) => m.subject === 'Retry me');
});

test('backoff doubles and is capped', (t) => {
  t.deepEqual([1, 2, 3, 4].map(backoffSeconds), [2, 4, 8, 16]);
  t.is(backoffSeconds(30), 600);
});

test.serial('without SMTP the mail is held in the outbox and logged by recipient and subject only', async (t) => {
  const lines: string[] = [];
  const capture = pino({ level: 'info' }, { write: (s: string) => lines.push(s) });
  const outbox = new Outbox(keyring);
  await outbox.enqueueMail(store.db, { to: 'carol@example.test', subject: 'Held', text: 'code 987654' }, 'k-3');
  const worker = new OutboxWorker({ db: store.db, outbox, logger: capture, transport: undefined, from: 'x' });
  await worker.runOnce();
  t.is((await store.db('outbox').where({ idempotency_key: 'k-3' }).first()).state, 'held');
  const log = lines.join('');
  t.regex(log, /carol@example\.test/);
  t.regex(log, /Held/);
  t.notRegex(log, /987654/);
});

test.serial('the recipient is kept only as a keyed hash beside the sealed message; rows written with a clear address are rekeyed', async (t) => {
  const outbox = new Outbox(keyring);
  await outbox.enqueueMail(store.db, { to: 'Dora.Hint@example.test', subject: 'Hinted', text: 'x' }, 'k-hint');
  const row = await store.db('outbox').where({ idempotency_key: 'k-hint' }).first();
  t.false(JSON.stringify(row).toLowerCase().includes('dora.hint'), 'no part of the address is stored in clear');
  t.is(row.recipient_hint, outbox.recipientHint('dora.hint@example.test'), 'an operator with the key can still look an address up');
  t.not(row.recipient_hint, new Outbox(new Keyring(randomBytes(32))).recipientHint('dora.hint@example.test'), 'the hash is keyed');

  // A row from before: its clear hint is replaced by the keyed one when a worker starts its passes.
  await store.db('outbox').where({ idempotency_key: 'k-hint' }).update({ recipient_hint: 'dora.hint@example.test', state: 'sent' });
  const worker = new OutboxWorker({ db: store.db, outbox, logger, transport: undefined, from: 'x' });
  await worker.runOnce();
  t.is((await store.db('outbox').where({ idempotency_key: 'k-hint' }).first()).recipient_hint, outbox.recipientHint('dora.hint@example.test'));
  t.deepEqual(await store.db('outbox').where('recipient_hint', 'like', '%@%'), []);
});

test.serial('delivered and failed messages are purged after the retention period; pending, held and recent ones stay', async (t) => {
  const outbox = new Outbox(keyring);
  const day = 24 * 60 * 60 * 1000;
  const ago = (days: number) => new Date(Date.now() - days * day);
  const rows: [string, Record<string, unknown>][] = [
    ['p-sent-old', { state: 'sent', delivered_at: ago(8), created_at: ago(8) }],
    ['p-sent-new', { state: 'sent', delivered_at: ago(6), created_at: ago(8) }],
    ['p-failed-old', { state: 'failed', created_at: ago(8) }],
    ['p-pending-old', { state: 'pending', created_at: ago(8), next_attempt_at: new Date(Date.now() + day) }],
    ['p-held-old', { state: 'held', created_at: ago(8) }],
  ];
  for (const [key, fields] of rows) {
    await outbox.enqueueMail(store.db, { to: `${key}@example.test`, subject: key, text: 'x' }, key);
    await store.db('outbox').where({ idempotency_key: key }).update(fields);
  }
  const worker = new OutboxWorker({ db: store.db, outbox, logger, transport: undefined, from: 'x', retentionDays: 7 });
  await worker.runOnce();
  const left = (
    (await store
      .db('outbox')
      .whereIn(
        'idempotency_key',
        rows.map(([k]) => k),
      )
      .select('idempotency_key')) as { idempotency_key: string }[]
  )
    .map((r) => r.idempotency_key)
    .sort();
  t.deepEqual(left, ['p-held-old', 'p-pending-old', 'p-sent-new']);
});

test.serial(
  'two workers and a receiver slower than a lease per message: the leases are renewed, each message is delivered exactly once',
  async (t) => {
    t.timeout(60_000);
    const leaseSeconds = 3;
    // The receiver's answers to the connection, MAIL FROM and RCPT TO each wait 1.15 s: a message takes about 3.5 s,
    // longer than the 3 s lease, while each wait stays under the 1.5 s timeouts the lease allows.
    const slow = await startSmtpSink({ stepDelayMs: 1150 });
    t.teardown(() => slow.close());
    const outbox = new Outbox(keyring);
    const keys = Array.from({ length: 12 }, (_, i) => `k-slow-${i}`);
    await withTransaction(store.db, async (trx) => {
      for (const key of keys) await outbox.enqueueMail(trx, { to: `${key}@example.test`, subject: 'slow', text: key }, key);
    });
    const timeout = deliveryTimeoutMs(leaseSeconds);
    t.true(timeout < leaseSeconds * 1000);
    const workers = [0, 1].map(
      () =>
        new OutboxWorker({
          db: store.db,
          outbox,
          logger,
          transport: nodemailer.createTransport({ url: slow.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout }),
          from: 'rf@example.test',
          pollMs: 100,
          leaseSeconds,
          concurrency: 4,
        }),
    );
    const started = Date.now();
    for (const w of workers) w.start();
    await until(
      'every slow message to be marked sent',
      async () =>
        (await store.db('outbox').whereIn('idempotency_key', keys).where({ state: 'sent' }).count({ n: '*' }).first())?.n === '12' ? true : undefined,
      45_000,
    );
    for (const w of workers) await w.stop();
    const seconds = (Date.now() - started) / 1000;
    const byId = new Map<string, number>();
    for (const m of slow.messages) byId.set(m.messageId ?? '', (byId.get(m.messageId ?? '') ?? 0) + 1);
    t.deepEqual([...byId.keys()].sort(), keys.map((k) => `<${k}@ringfence>`).sort(), 'every message arrived');
    t.deepEqual(
      [...byId.values()].filter((n) => n > 1),
      [],
      `no duplicates: ${slow.messages.length} received`,
    );
    t.true(
      workers.every((w) => w.renewals > 0),
      `both workers renewed leases while delivering (${workers.map((w) => w.renewals).join(', ')})`,
    );
    t.deepEqual(
      workers.map((w) => w.lostFences),
      [0, 0],
      'no lease was lost: the heartbeat kept them',
    );
    const rows = await store.db('outbox').whereIn('idempotency_key', keys).select('attempts', 'claim');
    t.true(
      rows.every((r) => r.attempts === 1 && r.claim === null),
      'each claimed once, and let go',
    );
    t.log(
      `12 messages of ~3.5 s each through two workers with a ${leaseSeconds} s lease: ${seconds.toFixed(1)} s, renewals ${workers.map((w) => w.renewals)}`,
    );
  },
);

/** An SMTP sink whose receiver holds each mail until the test lets it go; `arrived` resolves when one is held. */
async function gatedSink() {
  let arrive: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let release: (err?: Error) => void = () => undefined;
  const gate = new Promise<void>((resolve, reject) => {
    release = (err) => (err ? reject(err) : resolve());
  });
  gate.catch(() => undefined);
  const sink = await startSmtpSink({
    accept: () => {
      arrive();
      return gate;
    },
  });
  return { sink, arrived, release };
}

test.serial('fencing: a worker whose lease was taken over cannot mark the row, nor set a sent row back to pending', async (t) => {
  t.timeout(30_000);
  const lines: string[] = [];
  const capture = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
  const { sink: stuck, arrived, release } = await gatedSink();
  t.teardown(() => stuck.close());
  const outbox = new Outbox(keyring);
  await outbox.enqueueMail(store.db, { to: 'fence@example.test', subject: 'Fenced', text: 'x' }, 'k-fence');
  const a = new OutboxWorker({
    db: store.db,
    outbox,
    logger: capture,
    transport: nodemailer.createTransport(stuck.url),
    from: 'a@example.test',
    leaseSeconds: 30,
  });
  const passA = a.runOnce();
  // A is inside its delivery and stalls there (a paused process, a receiver that hangs): its lease runs out (made
  // due now) and B takes the message over under a claim of its own, and sends it.
  await arrived;
  const first = await store.db('outbox').where({ idempotency_key: 'k-fence' }).first();
  t.truthy(first.claim);
  await store.db('outbox').where({ idempotency_key: 'k-fence' }).update({ next_attempt_at: store.db.fn.now() });
  const b = new OutboxWorker({
    db: store.db,
    outbox,
    logger,
    transport: nodemailer.createTransport(smtp.url),
    from: 'b@example.test',
    leaseSeconds: 30,
  });
  t.is(await b.runOnce(), 1);
  const sent = await store.db('outbox').where({ idempotency_key: 'k-fence' }).first();
  t.is(sent.state, 'sent');
  // A's receiver now refuses: A's failure path (a retry) must not set B's sent row back to pending.
  release(Object.assign(new Error('try again later'), { responseCode: 451 }));
  t.is(await passA, 0);
  const after = await store.db('outbox').where({ idempotency_key: 'k-fence' }).first();
  t.is(after.state, 'sent', "B's result stands");
  t.is(after.attempts, 2);
  t.is(after.last_error, null);
  t.deepEqual(after.delivered_at, sent.delivered_at);
  t.is(a.lostFences, 1);
  t.is(b.lostFences, 0);
  t.regex(lines.join(''), /outbox claim lost/);
});

test.serial('fencing: a claim rewritten mid-delivery (taken over) refuses the first worker its "sent"; the holder\'s stands', async (t) => {
  t.timeout(30_000);
  const outbox = new Outbox(keyring);
  await outbox.enqueueMail(store.db, { to: 'fence2@example.test', subject: 'Fenced 2', text: 'x' }, 'k-fence-2');
  const { sink, arrived, release } = await gatedSink();
  t.teardown(() => sink.close());
  const c = new OutboxWorker({
    db: store.db,
    outbox,
    logger,
    transport: nodemailer.createTransport(sink.url),
    from: 'c@example.test',
    leaseSeconds: 30,
  });
  const passC = c.runOnce();
  await arrived;
  // While the receiver holds C's mail, another worker takes the row over: its claim token replaces C's.
  const holder = randomUUID();
  const rewritten = await store.db('outbox').where({ idempotency_key: 'k-fence-2' }).whereNotNull('claim').update({ claim: holder });
  t.is(rewritten, 1);
  release();
  t.is(await passC, 0, 'C does not count the message as delivered by it');
  t.is(sink.messages.length, 1, 'the receiver did get it (and dedupes a redelivery by Message-ID)');
  const row = await store.db('outbox').where({ idempotency_key: 'k-fence-2' }).first();
  t.is(row.state, 'pending', 'C never marks the row sent');
  t.is(row.claim, holder, "the holder's claim stands");
  t.is(c.lostFences, 1);
});
