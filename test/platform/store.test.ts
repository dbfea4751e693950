/**
 * The store's direct statements (src/store/db.ts): runStatement sends named statements straight to the pg driver,
 * on PostgreSQL and (through knex) on PGlite alike; each is its own transaction.
 */
import test from 'ava';
import { runStatement } from '../../src/store/db.ts';
import { useMigratedStore } from '../helpers/app.ts';

const pg = useMigratedStore({ migrate: false });
const pglite = useMigratedStore({ embedded: true, migrate: false });
test.before(async () => {
  for (const store of [pg, pglite]) await store.db.raw('create table items (id int primary key, label text not null)');
});

for (const kind of ['postgres', 'pglite'] as const) {
  const store = () => (kind === 'postgres' ? pg : pglite);

  test.serial(`${kind}: a direct statement takes ? bindings, arrays included, and answers its rows`, async (t) => {
    const rows = await runStatement<{ n: number; labels: string[] }>(store().db, 'test_bindings', 'select ?::int + 1 as n, ?::text[] as labels', [
      41,
      ['a', "b'c", null],
    ]);
    t.deepEqual(rows, [{ n: 42, labels: ['a', "b'c", null] }]);
  });

  test.serial(`${kind}: a direct statement is reported as knex reports its own`, async (t) => {
    const queries: string[] = [];
    const listen = (q: { sql: string }) => queries.push(q.sql);
    store().db.on('query', listen);
    t.teardown(() => store().db.off('query', listen));
    await runStatement(store().db, 'test_insert_two', 'insert into items (id, label) values (?, ?), (?, ?)', [1, 'one', 2, 'two']);
    t.deepEqual((await store().db('items').orderBy('id').pluck('label')) as string[], ['one', 'two']);
    // So tools that trace queries (bench/query-trace.ts) see them.
    t.true(
      queries.some((q) => q.startsWith('insert into items')),
      queries.join('\n'),
    );
  });

  test.serial(`${kind}: a failing direct statement writes nothing, and the store serves the next one`, async (t) => {
    const before = Number((await store().db('items').count({ n: '*' }))[0].n);
    await t.throwsAsync(
      runStatement(store().db, 'test_insert_two', 'insert into items (id, label) values (?, ?), (?, ?)', [3, 'three', 1, 'duplicate']),
      {
        message: /duplicate key/,
      },
    );
    t.is(Number((await store().db('items').count({ n: '*' }))[0].n), before);
    // More statements than the pool has connections: a connection left broken would show here.
    for (let i = 0; i < 12; i++) {
      await runStatement(store().db, 'test_insert', 'insert into items (id, label) values (?, ?)', [100 + i, `n${i}`]);
    }
    t.is(Number((await store().db('items').count({ n: '*' }))[0].n), before + 12);
  });
}
