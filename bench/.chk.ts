import pg from 'pg';
import { startPostgres } from '../test/helpers/postgres.ts';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/store/db.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { recordAudit, verifyAuditChain } from '../src/audit/audit.ts';
import { AuditQueue } from '../src/audit/queue.ts';

async function check(label: string, store: Awaited<ReturnType<typeof openStore>>) {
  await migrateLatest(store.db);
  const q = new AuditQueue(store.db, { maxBatch: 7 });
  const all: Promise<void>[] = [];
  for (let i = 0; i < 60; i++) {
    all.push(q.record({ action: 'data.released', actor: `service:c${i % 5}`, subject: i % 3 ? `user:${i}` : undefined, clientIp: i % 4 ? '127.0.0.1' : undefined, data: { i, s: 'quote " back \\ nl \n uni é ✓', arr: [1, { b: null }] } }));
    if (i % 10 === 0) all.push(recordAudit(store.db, { action: 'other', actor: 'operator', data: { i } }));
  }
  await Promise.all(all);
  await q.flush();
  const v = await verifyAuditChain(store.db);
  const sizes = await store.db('audit_events').count({ n: '*' });
  console.log(label, v, sizes);
  await store.close();
}
const server = await startPostgres();
try {
  const c = new pg.Client({ connectionString: server.url }); await c.connect(); await c.query('create database chk'); await c.end();
  const url = new URL(server.url); url.pathname = '/chk';
  await check('pg', await openStore(loadConfig({ DATABASE_URL: url.toString() })));
  await check('pglite', await openStore(loadConfig({ DATABASE_URL: '' }), { inMemory: true }));
} finally { server.stop(); }
