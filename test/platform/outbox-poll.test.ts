/**
 * The outbox worker's idle polling, as the service starts it. Found by the benchmark's statement statistics
 * (`npm run bench -- --pg-stats`): startService passes `pollMs: options.outboxPollMs`, undefined in production,
 * and `{ pollMs: 2000, ...options }` let that undefined replace the default, so the worker polled every
 * millisecond — thousands of planned UPDATEs a second from an idle service, on every instance. Fixed with `??`.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Keyring } from '../../src/crypto/envelope.ts';
import { Outbox, OutboxWorker } from '../../src/notify/outbox.ts';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();

test('an idle worker started without a poll interval waits the default interval between polls', async (t) => {
  let polls = 0;
  const count = (q: { sql: string }) => {
    if (q.sql.startsWith('update outbox')) polls++;
  };
  store.db.on('query', count);
  const worker = new OutboxWorker({
    db: store.db,
    outbox: new Outbox(new Keyring(randomBytes(32))),
    logger: pino({ level: 'silent' }),
    transport: undefined,
    from: 'rf@example.test',
    // What startService passes when no interval is configured (production).
    pollMs: undefined,
  });
  worker.start();
  await new Promise((r) => setTimeout(r, 500));
  await worker.stop();
  store.db.off('query', count);
  // The first pass runs at start; the next one is due 2 s later.
  t.true(polls <= 2, `${polls} polls in 500 ms`);
});
