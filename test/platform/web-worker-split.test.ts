/**
 * OUTBOX_WORKER=false: an instance that serves requests only. What it queues (here a registration's verification
 * mail) waits durably in the outbox until an instance that delivers picks it up — never sent by the web instance.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createDatabase, startTestApp } from '../helpers/app.ts';
import { register } from '../accounts/fixtures.ts';

test('a web-only instance leaves its mail to a worker instance on the same database', async (t) => {
  const database = await createDatabase();
  const kek = randomBytes(32);
  const web = await startTestApp({
    name: 'platform-web-worker-split-web',
    databaseUrl: database.url,
    kek,
    smtp: true,
    env: { OUTBOX_WORKER: 'false' },
  });
  try {
    t.false(web.config.outboxWorker);
    const { person } = await register(web);
    // The web instance would have polled many times by now (every 100 ms in tests) if its worker ran.
    await new Promise((r) => setTimeout(r, 800));
    t.is(web.smtp.messages.length, 0, 'the web-only instance sent mail');
    const pending = await web.service.deps.db('outbox').where({ state: 'pending' }).count({ n: '*' });
    t.true(Number(pending[0]!.n) >= 1, 'the mail waits in the outbox');

    const worker = await startTestApp({ name: 'platform-web-worker-split-worker', databaseUrl: database.url, kek, smtp: true });
    try {
      t.true(worker.config.outboxWorker);
      const mail = await worker.smtp.waitFor((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(person.email), 10_000);
      t.truthy(mail.messageId);
      t.is(web.smtp.messages.length, 0);
    } finally {
      await worker.close();
    }
  } finally {
    await web.close();
    await database.drop();
  }
});

test('OUTBOX_WORKER takes true or false, and says what to fix otherwise', async (t) => {
  const { loadConfig } = await import('../../src/config.ts');
  t.true(loadConfig({}).outboxWorker);
  t.false(loadConfig({ OUTBOX_WORKER: 'false' }).outboxWorker);
  t.throws(() => loadConfig({ OUTBOX_WORKER: 'off' }), { message: /OUTBOX_WORKER must be true or false, got "off"/ });
});
