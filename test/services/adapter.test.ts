/** The provider's storage adapter: the same behaviour on PostgreSQL and on PGlite. */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/db.ts';
import { createAdapterClass, destroyGrant, sweepExpiredPayloads } from '../../src/oidc/adapter.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import { up as hashStoredIds } from '../../migrations/007_oidc_hashed_ids.ts';
import { useMigratedStore } from '../helpers/app.ts';

const stores: Record<string, Store> = { postgres: useMigratedStore(), pglite: useMigratedStore({ embedded: true }) };

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
  await db('oidc_payloads')
    .where({ kind: 'AuthorizationCode', id: hashToken(id) })
    .update({ expires_at: new Date(Date.now() - 1000) });
  t.is(await codes.find(id), undefined);
  t.true((await sweepExpiredPayloads(db)) >= 1);
  t.falsy(
    await db('oidc_payloads')
      .where({ kind: 'AuthorizationCode', id: hashToken(id) })
      .first(),
  );
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
  await device.upsert(id, { jti: id, userCode: 'ABCD-EFGH', clientId: 'c1' }, 60);
  // Found by its user code, a device code comes without its id: only the hash of it is stored (the device flow,
  // which would need it, is not enabled).
  t.like(await device.findByUserCode('ABCD-EFGH'), { userCode: 'ABCD-EFGH', clientId: 'c1' });
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

both('destroyGrant removes what was issued under the grant, not an interaction that names it', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const grantId = randomUUID();
  const [code, uid] = [randomUUID(), randomUUID()];
  await new Adapter('Grant').upsert(grantId, { jti: grantId, accountId: 'x', clientId: 'y' }, 60);
  await new Adapter('AuthorizationCode').upsert(code, { jti: code, grantId }, 60);
  // A consent in flight for the same service: the provider puts the grant it would extend in the interaction.
  const interaction = new Adapter('Interaction');
  await interaction.upsert(uid, { jti: uid, grantId, returnTo: `/oidc/auth/${uid}` }, 60);
  t.is(await destroyGrant(db, grantId), 2, 'the grant and its code');
  t.is(await new Adapter('AuthorizationCode').find(code), undefined);
  t.like(await interaction.find(uid), { grantId }, 'the interaction stays, so the consent replacing the grant can finish');
});

both('clients come from the services registry, never from upsert', async (t, { db }) => {
  const clients = new (createAdapterClass(db))('Client');
  await t.throwsAsync(clients.upsert('c', { client_id: 'c' }, 0), { message: /services registry/ });
  t.is(await clients.find('svc_unknown'), undefined);
});

/** The stored row of a record, with its payload as text. */
async function rowOf(db: Store['db'], kind: string, storedId: string) {
  return (await db('oidc_payloads').where({ kind, id: storedId }).first('id', 'payload')) as { id: string; payload: unknown } | undefined;
}

const text = (payload: unknown) => (typeof payload === 'string' ? payload : JSON.stringify(payload));

both('a token is stored under the SHA-256 of its id, with no copy of the id in its payload, and found by the id', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  for (const kind of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'ClientCredentials']) {
    const models = new Adapter(kind);
    const id = `${kind}-${randomUUID()}`;
    await models.upsert(id, { jti: id, kind, clientId: 'c1', grantId: 'g1' }, 60);
    t.is(await rowOf(db, kind, id), undefined, `${kind}: no row under the id itself`);
    const row = await rowOf(db, kind, hashToken(id));
    t.truthy(row, `${kind}: the row is under the hash`);
    t.false(text(row!.payload).includes(id), `${kind}: the payload does not repeat the id`);
    t.like(await models.find(id), { jti: id, kind, clientId: 'c1', grantId: 'g1' }, `${kind}: found by the id, jti restored`);
    t.is(await models.find(hashToken(id)), undefined, `${kind}: the stored hash is not a token`);
    await models.consume(id);
    t.true(typeof (await models.find(id))?.consumed === 'number');
    await models.destroy(id);
    t.is(await rowOf(db, kind, hashToken(id)), undefined, `${kind}: destroyed by the id`);
  }
});

both('an interaction keeps neither its id (resume URL) nor its session cookie value in the payload, and gets both back', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const uid = randomUUID();
  const sessionId = randomUUID();
  const returnTo = `http://127.0.0.1:1/oidc/auth/${uid}`;
  await new Adapter('Interaction').upsert(
    uid,
    { jti: uid, kind: 'Interaction', returnTo, session: { accountId: 'a1', uid: 'session-uid', cookie: sessionId } },
    60,
  );
  const row = await rowOf(db, 'Interaction', hashToken(uid));
  t.truthy(row);
  t.false(text(row!.payload).includes(uid));
  t.false(text(row!.payload).includes(sessionId), "the session's cookie value is not kept");
  const found = await new Adapter('Interaction').find(uid);
  t.like(found, { jti: uid, returnTo, session: { accountId: 'a1', uid: 'session-uid' } });
  t.false('cookie' in (found!.session as object));
});

both('a session is stored under the hash of its cookie value and still found by its uid (without the id)', async (t, { db }) => {
  const sessions = new (createAdapterClass(db))('Session');
  const id = randomUUID();
  const uid = randomUUID();
  await sessions.upsert(id, { jti: id, uid, accountId: 'a1', kind: 'Session' }, 60);
  t.truthy(await rowOf(db, 'Session', hashToken(id)));
  t.like(await sessions.find(id), { jti: id, uid, accountId: 'a1' });
  const byUid = await sessions.findByUid(uid);
  t.like(byUid, { uid, accountId: 'a1' });
  t.is(byUid?.jti, undefined, 'the hash cannot give the id back');
});

both('grant ids are kept as they are: tokens name their grant, and revocation finds them by it', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const grantId = randomUUID();
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'a', clientId: 'c' }, 60);
  t.truthy(await rowOf(db, 'Grant', grantId));
  const access = randomUUID();
  await new Adapter('AccessToken').upsert(access, { jti: access, grantId }, 60);
  t.is(
    (
      (await db('oidc_payloads')
        .where({ kind: 'AccessToken', id: hashToken(access) })
        .first('grant_id')) as { grant_id: string }
    ).grant_id,
    grantId,
  );
  await new Adapter('AccessToken').revokeByGrantId(grantId);
  t.is(await new Adapter('AccessToken').find(access), undefined);
});

both('a payload that repeats a secret id where the adapter does not expect it is refused, not stored in clear', async (t, { db }) => {
  const tokens = new (createAdapterClass(db))('AccessToken');
  const id = randomUUID();
  await t.throwsAsync(tokens.upsert(id, { jti: id, extra: { copy: id } }, 60), { message: /repeats its id/ });
  await t.throwsAsync(tokens.upsert(id, { jti: randomUUID() }, 60), { message: /another id/ });
  t.is(await rowOf(db, 'AccessToken', hashToken(id)), undefined);
});

both('migration 007 converts rows stored with clear ids: issued tokens keep working, interactions in progress end', async (t, { db }) => {
  const Adapter = createAdapterClass(db);
  const [access, session, interaction, grant] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const old = (kind: string, id: string, payload: object) => ({
    kind,
    id,
    payload: JSON.stringify({ jti: id, kind, ...payload }),
    expires_at: new Date(Date.now() + 60_000),
  });
  await db('oidc_payloads').insert([
    old('AccessToken', access, { grantId: grant }),
    old('Session', session, { uid: randomUUID(), accountId: 'a' }),
    old('Interaction', interaction, { returnTo: `http://x/oidc/auth/${interaction}` }),
    old('Grant', grant, { accountId: 'a', clientId: 'c' }),
  ]);
  await hashStoredIds(db);
  t.like(await new Adapter('AccessToken').find(access), { jti: access, grantId: grant });
  t.like(await new Adapter('Session').find(session), { jti: session, accountId: 'a' });
  t.is(await new Adapter('Interaction').find(interaction), undefined);
  t.like(await new Adapter('Grant').find(grant), { jti: grant });
  const stored = (await db('oidc_payloads').whereIn('kind', ['AccessToken', 'Session']).select('id', 'payload')) as {
    id: string;
    payload: unknown;
  }[];
  for (const id of [access, session]) {
    t.false(
      stored.some((r) => r.id === id || text(r.payload).includes(id)),
      'no clear id left',
    );
  }
});
