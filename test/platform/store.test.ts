/**
 * The store's direct statements (src/store/db.ts): runStatement and withDirectTransaction send named statements
 * straight to the pg driver, on PostgreSQL and (through knex) on PGlite alike, with a transaction's all-or-nothing.
 */
import test from 'ava';
import { loadConfig } from '../../src/config.ts';
import { openStore, runStatement, withDirectTransaction, type Store } from '../../src/store/db.ts';
import { createDatabase } from '../helpers/app.ts';

let pg: Store;
let pglite: Store;
let drop: () => Promise<void>;
test.before(async () => {
  const db = await createDatabase();
  drop = db.drop;
  pg = await openStore(loadConfig({ DATABASE_URL: db.url }));
  pglite = await openStore(loadConfig({ NODE_ENV: 'development' }), { inMemory: true });
  for (const store of [pg, pglite]) await store.db.raw('create table items (id int primary key, label text not null)');
});
test.after.always(async () => {
  await pg?.close();
  await pglite?.close();
  await drop?.();
});

for (const kind of ['postgres', 'pglite'] as const) {
  const store = () => (kind === 'postgres' ? pg : pglite);

  test.serial(`${kind}: a direct statement takes ? bindings, arrays included, and answers its rows`, async (t) => {
    const rows = await runStatement<{ n: number; labels: string[] }>(store().db, 'test_bindings', 'select ?::int + 1 as n, ?::text[] as labels', [41, ['a', "b'c", null]]);
    t.deepEqual(rows, [{ n: 42, labels: ['a', "b'c", null] }]);
  });

  test.serial(`${kind}: a direct transaction commits every statement together`, async (t) => {
    const queries: string[] = [];
    const listen = (q: { sql: string }) => queries.push(q.sql);
    store().db.on('query', listen);
    t.teardown(() => store().db.off('query', listen));
    const answer = await withDirectTransaction(store().db, async (run) => {
      await run('test_insert', 'insert into items (id, label) values (?, ?)', [1, 'one']);
      await run('test_insert', 'insert into items (id, label) values (?, ?)', [2, 'two']);
      return run<{ n: string }>('test_count', 'select count(*) as n from items', []);
    });
    t.is(Number(answer[0].n), 2);
    t.deepEqual((await store().db('items').orderBy('id').pluck('label')) as string[], ['one', 'two']);
    // Reported as knex reports its own, so tools that trace queries (bench/query-trace.ts) see them.
    t.true(queries.filter((q) => q.startsWith('insert into items')).length === 2, queries.join('\n'));
  });

  test.serial(`${kind}: a failure inside a direct transaction writes nothing, and the store serves the next one`, async (t) => {
    const before = Number((await store().db('items').count({ n: '*' }))[0].n);
    await t.throwsAsync(
      withDirectTransaction(store().db, async (run) => {
        await run('test_insert', 'insert into items (id, label) values (?, ?)', [3, 'three']);
        await run('test_insert', 'insert into items (id, label) values (?, ?)', [1, 'duplicate']);
      }),
      { message: /duplicate key/ },
    );
    t.is(Number((await store().db('items').count({ n: '*' }))[0].n), before);
    // More transactions than the pool has connections: a connection left in a failed transaction would show here.
    for (let i = 0; i < 12; i++) {
      await withDirectTransaction(store().db, (run) => run('test_insert', 'insert into items (id, label) values (?, ?)', [100 + i, `n${i}`]));
    }
    t.is(Number((await store().db('items').count({ n: '*' }))[0].n), before + 12);
  });
}
