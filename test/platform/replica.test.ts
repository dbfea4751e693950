/**
 * Read replicas (issue 21 Deliver 5), on a real streaming replica: a primary started with wal_level=replica, a copy
 * made by pg_basebackup -R, the copy running as a hot standby on another port (test/helpers/replica.ts).
 *
 * - The public directory answers from the replica: with the replica's replay paused, a person registered on the
 *   primary is missing from GET /profiles (and the replica's pg_stat_activity shows the service's connections) until
 *   replay resumes, while GET /profiles/{handle}, which stays on the primary, finds them at once.
 * - Everything authorization-relevant reads the primary: with replay paused, so that the replica certainly still
 *   holds the grant, a revoked grant's token is refused on the very next request.
 * - Without DATABASE_REPLICA_URL every read goes to the primary; a replica without DATABASE_URL is a config error.
 */
import test from 'ava';
import * as client from 'openid-client';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/db.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addService, discover, tokensFor } from '../helpers/oidc.ts';
import { replicaTools, startReplicatedPostgres, type ReplicatedPostgres } from '../helpers/replica.ts';
import { registerNamedPerson } from '../services/fixtures.ts';

const DIRECTORY = '/api/v1/profiles';

test('without DATABASE_REPLICA_URL the directory reads the primary; a replica needs DATABASE_URL', async (t) => {
  const store = await openStore(loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }));
  try {
    t.is(store.replica, store.db, 'one pool: every read goes to the primary');
  } finally {
    await store.close();
  }
  const err = t.throws(() => loadConfig({ DATABASE_REPLICA_URL: 'postgres://nobody@127.0.0.1:1/none' }), { instanceOf: ConfigError });
  t.regex(err!.message, /DATABASE_REPLICA_URL needs DATABASE_URL/);
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://a@127.0.0.1/x', DATABASE_REPLICA_URL: 'mysql://a@127.0.0.1/x' }), {
    message: /DATABASE_REPLICA_URL must use one of postgres:, postgresql:/,
  });
});

const tools = replicaTools();
if (!tools.ok) {
  // Not a pass: ava reports it skipped, with the reason, and docs/scale-out.md says where the binary comes from.
  test.skip(`the directory reads a streaming replica: ${tools.why}`, () => {});
} else {
  let replicated: ReplicatedPostgres | undefined;
  let app: TestApp | undefined;
  test.after.always(async () => {
    await app?.close();
    replicated?.stop();
  });

  const handles = async (a: TestApp) =>
    ((await a.request('GET', `${DIRECTORY}?limit=100`)).body.profiles as { handle: string }[]).map((p) => p.handle);

  test.serial('the directory reads a streaming replica; a revocation is refused at once while the replica lags', async (t) => {
    t.timeout(120_000);
    const rp = await startReplicatedPostgres();
    replicated = rp;
    const admin = new pg.Client({ connectionString: rp.primaryUrl });
    await admin.connect();
    await admin.query('create database rf_replica');
    await admin.end();
    const urls = rp.urlsOf('rf_replica');
    await rp.caughtUp();
    app = await startTestApp({ databaseUrl: urls.primary, env: { DATABASE_REPLICA_URL: urls.replica } });
    const deps = app.service.deps;
    t.not(deps.replica, deps.db, 'a pool of its own for the replica');
    const inRecovery = await deps.replica!.raw('select pg_is_in_recovery() as r');
    t.true(inRecovery.rows[0].r, 'the replica pool is connected to a standby');
    t.false((await deps.db.raw('select pg_is_in_recovery() as r')).rows[0].r, 'the primary pool is connected to the primary');

    // A person, a service they granted; the replica has all of it.
    const early = await registerNamedPerson(app, 'replica_early');
    const svc = await addService(app, 'government', { name: 'Replica reader' });
    const config = await discover(app, svc.service.client_id, svc.clientSecret);
    const tokens = await tokensFor(app, config, early, 'openid email address offline_access');
    const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${app.url}/api/v1/data` });
    t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);
    let from = Date.now();
    await rp.caughtUp();
    t.log(`replica caught up with the primary ${Date.now() - from} ms after the last write (loopback, idle replay)`);
    t.true((await handles(app)).includes('replica_early'));
    const onReplica = await new pg.Client({ connectionString: rp.replicaUrl });
    await onReplica.connect();
    try {
      const activity = await onReplica.query(
        "select count(*)::int as n from pg_stat_activity where datname = 'rf_replica' and application_name = 'ringfence-replica'",
      );
      t.true(activity.rows[0].n >= 1, "the directory's connections are on the replica");
    } finally {
      await onReplica.end();
    }

    // Replay paused: the replica now lags for certain.
    await rp.pauseReplay();
    const late = await registerNamedPerson(app, 'replica_late');
    t.truthy(late);
    t.false((await handles(app)).includes('replica_late'), 'the directory answers from the replica, which has not replayed the registration');
    t.is((await app.request('GET', '/api/v1/profiles/replica_late')).status, 200, 'a single public profile reads the primary');

    // The revocation commits on the primary only; the replica still holds the grant as live. Refused at once.
    const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: early.token, json: { service_id: svc.service.client_id } });
    t.is(revoked.status, 200, revoked.text);
    assertError(t, await app.request('GET', '/api/v1/data/profile', { token: data.access_token }), 401, 'invalid_token');
    const lag = await deps.db.raw('select pg_current_wal_lsn()::text as lsn');
    const replayed = await deps.replica!.raw('select pg_last_wal_replay_lsn()::text as lsn, pg_last_wal_replay_lsn() < ?::pg_lsn as behind', [
      lag.rows[0].lsn,
    ]);
    t.true(replayed.rows[0].behind, `the replica was behind during the refusal (replayed ${replayed.rows[0].lsn}, primary at ${lag.rows[0].lsn})`);

    // Replay resumed: the directory catches up.
    from = Date.now();
    await rp.resumeReplay();
    await rp.caughtUp();
    t.log(`after the pause, the replica caught up in ${Date.now() - from} ms`);
    t.true((await handles(app)).includes('replica_late'));
    assertError(t, await app.request('GET', '/api/v1/data/profile', { token: data.access_token }), 401, 'invalid_token');
  });
}
