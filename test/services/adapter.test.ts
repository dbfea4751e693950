/** The provider's storage adapter: the same behaviour on PostgreSQL and on PGlite. */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { migrateLatest } from '../../src/store/migrations.ts';
import { createAdapterClass, destroyGrant, sweepExpiredPayloads } from '../../src/oidc/adapter.ts';
import { createDatabase } from '../helpers/app.ts';

const stores: Record<string, Store> = {};
let drop: () => Promise<void>;

test.before(async () => {
  const pg = await createDatabase();
  drop = pg.drop;
  stores.postgres = await openStore(loadConfig({ DATABASE_URL: pg.url }));
  stores.pglite = await openStore(loadConfig({}), { inMemory: true });
  for (const s of Object.values(stores)) await migrateLatest(s.db);
});
test.after.always(async () => {
  for (const s of Object.values(stores)) await s.close();
  await drop?.();
});

function both(title: string, run: (t: ExecutionContext, store: Store) => Promise<void>) {
  for (const kind of ['postgres', 'pglite'] as const) test.serial(`${kind}: ${title}`, (t) => run(t, stores[kind]));
}

both('upsert then find returns the payload; find of an unknown id is undefined', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const tokens = new Adapter('AccessToken');
  const id = randomUUID();
  await tokens.upsert(id, { jti: id, grantId: 'g1', accountId: 'a1', clientId: 'c1', kind: 'AccessToken' }, 60);
  t.like(await tokens.find(id), { jti: id, grantId: 'g1' });
  t.is(await tokens.find(randomUUID()), undefined);
  // The same id under another model name is another record.
  t.is(await new Adapter('RefreshToken').find(id), undefined);
});

both('upsert replaces an existing payload', async (t, { db }) => {
  const sessions = new (createAdapterClass(db))('Session');
  const id = randomUUID();
  await sessions.upsert(id, { jti: id, uid: 'u-1', accountId: 'a' }, 60);
  await sessions.upsert(id, { jti: id, uid: 'u-1', accountId: 'b' }, 60);
  t.is((await sessions.find(id))?.accountId, 'b');
  t.is((await sessions.findByUid('u-1'))?.accountId, 'b');
});

both('find never returns an expired payload, and the sweep deletes it', async (t, { db }) => {
  const codes = new (createAdapterClass(db))('AuthorizationCode');
  const id = randomUUID();
  await codes.upsert(id, { jti: id }, 60);
  await db('oidc_payloads').where({ kind: 'AuthorizationCode', id }).update({ expires_at: new Date(Date.now() - 1000) });
  t.is(await codes.find(id), undefined);
  t.true((await sweepExpiredPayloads(db)) >= 1);
  t.falsy(await db('oidc_payloads').where({ kind: 'AuthorizationCode', id }).first());
});

both('consume marks the payload consumed', async (t, { db }) => {
  const codes = new (createAdapterClass(db))('AuthorizationCode');
  const id = randomUUID();
  await codes.upsert(id, { jti: id }, 60);
  t.is((await codes.find(id))?.consumed, undefined);
  await codes.consume(id);
  t.true(typeof (await codes.find(id))?.consumed === 'number');
});

both('findByUserCode and findByUid look up by their indexes', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const device = new Adapter('DeviceCode');
  const id = randomUUID();
  await device.upsert(id, { jti: id, userCode: 'ABCD-EFGH' }, 60);
  t.is((await device.findByUserCode('ABCD-EFGH'))?.jti, id);
  t.is(await device.findByUserCode('NOPE-NOPE'), undefined);
});

both('destroy removes one record; revokeByGrantId removes every record of that grant for the model', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const access = new Adapter('AccessToken');
  const refresh = new Adapter('RefreshToken');
  const grantId = randomUUID();
  const [a1, a2, r1] = [randomUUID(), randomUUID(), randomUUID()];
  await access.upsert(a1, { jti: a1, grantId }, 60);
  await access.upsert(a2, { jti: a2, grantId }, 60);
  await refresh.upsert(r1, { jti: r1, grantId }, 60);
  await access.destroy(a1);
  t.is(await access.find(a1), undefined);
  await access.revokeByGrantId(grantId);
  t.is(await access.find(a2), undefined);
  t.truthy(await refresh.find(r1), 'other models keep theirs');
  await new Adapter('Grant').upsert(grantId, { jti: grantId, accountId: 'x', clientId: 'y' }, 60);
  t.is(await destroyGrant(db, grantId), 2, 'the grant and its refresh token');
  t.is(await refresh.find(r1), undefined);
});

both('clients come from the services registry, never from upsert', async (t, { db }) => {
  const clients = new (createAdapterClass(db))('Client');
  await t.throwsAsync(clients.upsert('c', { client_id: 'c' }, 0), { message: /services registry/ });
  t.is(await clients.find('svc_unknown'), undefined);
});
