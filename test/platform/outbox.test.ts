import test from 'ava';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import nodemailer from 'nodemailer';
import { Keyring } from '../../src/crypto/envelope.ts';
import { Outbox, OutboxWorker, backoffSeconds } from '../../src/notify/outbox.ts';
import { withTransaction } from '../../src/store/db.ts';
import { useMigratedStore } from '../helpers/app.ts';
import { useSmtpSink } from '../helpers/smtp.ts';

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
