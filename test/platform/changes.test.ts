/**
 * The change notices between instances (src/store/changes.ts): a notice sent in a transaction reaches the other
 * listeners when it commits (never when it rolls back), and what a lost notice would miss is read again anyway — by
 * the poll, and at once when the listening connection comes back after being cut.
 */
import test from 'ava';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { ChangeFeed, notifyChange } from '../../src/store/changes.ts';
import { openStore, type Store, withTransaction } from '../../src/store/db.ts';
import { createDatabase } from '../helpers/app.ts';

let store: Store | undefined;
let url = '';
let drop: (() => Promise<void>) | undefined;
const feeds: ChangeFeed[] = [];

test.before(async () => {
  const db = await createDatabase();
  drop = db.drop;
  url = db.url;
  store = await openStore(loadConfig({ DATABASE_URL: db.url }));
});

test.after.always(async () => {
  for (const feed of feeds) await feed.close();
  await store?.close();
  await drop?.();
});

function counting(pollMs: number, listen = true) {
  const seen = { signing_keys: 0, policy: 0 };
  const feed = new ChangeFeed({ connectionString: listen ? url : undefined, logger: pino({ level: 'silent' }), pollMs });
  feeds.push(feed);
  feed.subscribe('signing_keys', async () => {
    seen.signing_keys++;
  });
  feed.subscribe('policy', async () => {
    seen.policy++;
  });
  return { feed, seen };
}

async function until(what: string, probe: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

test.serial('a notice reaches every listening instance when its transaction commits, and only then', async (t) => {
  const one = counting(60_000);
  const two = counting(60_000);
  await one.feed.start();
  await two.feed.start();
  t.true(one.feed.listening && two.feed.listening);
  // Each reads everything once when it starts listening.
  await until('the first reads', () => one.seen.policy === 1 && two.seen.policy === 1, 5_000);

  await t.throwsAsync(
    withTransaction(store!.db, async (trx) => {
      await notifyChange(trx, 'signing_keys');
      throw new Error('rolled back');
    }),
  );
  await withTransaction(store!.db, async (trx) => {
    await notifyChange(trx, 'policy');
    await new Promise((r) => setTimeout(r, 200));
    t.is(one.seen.policy, 1, 'nothing before the commit');
  });
  const ms = await until('the notice', () => one.seen.policy === 2 && two.seen.policy === 2, 5_000);
  t.is(one.seen.signing_keys, 1, 'the rolled back notice never arrived');
  t.is(two.feed.notices, 1);
  t.log(`notice delivered within ${ms} ms`);
});

test.serial('without notices (PGlite, or the connection down) every topic is still read again within the poll', async (t) => {
  const { feed, seen } = counting(200, false);
  await feed.start();
  t.false(feed.listening);
  await until('three polls', () => seen.signing_keys >= 3 && seen.policy >= 3, 5_000);
  t.pass();
});

test.serial('a cut listening connection comes back, and what it may have missed is read again at once', async (t) => {
  const { feed, seen } = counting(60_000);
  await feed.start();
  await until('the first read', () => seen.policy === 1, 5_000);
  await store!.db.raw(
    `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'ringfence-changes' and datname = current_database()`,
  );
  await until('the reconnection and its read', () => seen.policy >= 2 && feed.listening, 10_000);
  const before = seen.signing_keys;
  await notifyChange(store!.db, 'signing_keys');
  await until('a notice on the new connection', () => seen.signing_keys === before + 1, 5_000);
  t.pass();
});
