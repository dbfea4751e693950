/**
 * `npm run audit -- verify` walks the hash chain and names the first row altered, deleted or reordered. Each case
 * tampers with a chain of its own, in a database of its own, with SQL, as someone with database access would.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { recordAuditEvents } from '../../src/audit/audit.ts';
import { loadConfig } from '../../src/config.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { migrateLatest } from '../../src/store/migrations.ts';
import { createDatabase } from '../helpers/app.ts';
import { runCli } from '../helpers/cli.ts';

/** A fresh database holding a whole chain of `n` events; the caller closes it. */
async function chain(n: number): Promise<{ store: Store; url: string; ids: string[]; close(): Promise<void> }> {
  const db = await createDatabase();
  const store = await openStore(loadConfig({ DATABASE_URL: db.url }));
  await migrateLatest(store.db);
  for (let i = 1; i <= n; i++) {
    await recordAuditEvents(store.db, [{ action: 'test.event', actor: 'operator', subject: `user:${randomUUID()}`, data: { n: i } }]);
  }
  const ids = ((await store.db('audit_events').orderBy('seq').select('id')) as { id: string }[]).map((r) => r.id);
  return {
    store,
    url: db.url,
    ids,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

const verify = (url: string, json = false) => runCli('audit', ['verify', ...(json ? ['--json'] : [])], { DATABASE_URL: url });

test('a whole chain verifies: exit 0, every row checked, the head named', async (t) => {
  const c = await chain(5);
  try {
    const run = await verify(c.url);
    t.is(run.code, 0, run.stderr);
    t.regex(run.stdout, /audit chain whole: 5 rows checked; head seq 5/);
  } finally {
    await c.close();
  }
});

test('an altered row fails verification and is named', async (t) => {
  const c = await chain(6);
  try {
    await c.store.db.raw(`update audit_events set data = '{"n": 99}'::jsonb where seq = 3`);
    const run = await verify(c.url);
    t.is(run.code, 1);
    t.regex(run.stdout, /BROKEN \(altered\) at seq 3/);
    t.true(run.stdout.includes(c.ids[2]));
    const json = JSON.parse((await verify(c.url, true)).stdout);
    t.like(json, { ok: false, checked: 2, broken: { problem: 'altered', seq: 3, id: c.ids[2] } });
  } finally {
    await c.close();
  }
});

test('a deleted row fails verification and is named by its seq', async (t) => {
  const c = await chain(6);
  try {
    await c.store.db.raw('delete from audit_events where seq = 4');
    const run = await verify(c.url);
    t.is(run.code, 1);
    t.regex(run.stdout, /BROKEN \(deleted\) at seq 4/);
    t.regex(run.stdout, /row seq 4 was deleted/);
    const json = JSON.parse((await verify(c.url, true)).stdout);
    t.like(json, { ok: false, checked: 3, broken: { problem: 'deleted', seq: 4, id: c.ids[4] } });
  } finally {
    await c.close();
  }
});

test('two swapped rows fail verification; the first one out of order is named', async (t) => {
  const c = await chain(6);
  try {
    // seq is the primary key: swap through a free value.
    await c.store.db.transaction(async (trx) => {
      await trx.raw('update audit_events set seq = -1 where seq = 2');
      await trx.raw('update audit_events set seq = 2 where seq = 3');
      await trx.raw('update audit_events set seq = 3 where seq = -1');
    });
    const run = await verify(c.url);
    t.is(run.code, 1);
    t.regex(run.stdout, /BROKEN \(reordered\) at seq 2/);
    // The row now at seq 2 is the one written third.
    t.true(run.stdout.includes(c.ids[2]));
    const json = JSON.parse((await verify(c.url, true)).stdout);
    t.like(json, { ok: false, checked: 1, broken: { problem: 'reordered', seq: 2, id: c.ids[2] } });
  } finally {
    await c.close();
  }
});

test('the first row deleted is named too', async (t) => {
  const c = await chain(3);
  try {
    await c.store.db.raw('delete from audit_events where seq = 1');
    const json = JSON.parse((await verify(c.url, true)).stdout);
    t.like(json, { ok: false, checked: 0, broken: { problem: 'deleted', seq: 1 } });
  } finally {
    await c.close();
  }
});
