// `npm run services -- deliveries …` and `webhook …`: the operator's view of failed deliveries, and their replay.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/cli.ts';
import { registerClient, tokensFor } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver } from '../helpers/webhooks.ts';
import { registerNamedPerson } from '../services/fixtures.ts';

const app = useTestApp({ name: 'deliveries-cli' });
let receiver: Receiver | undefined;
test.after.always(async () => {
  await receiver?.close();
});

const services = (args: string[]) => runCli('services', args, { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: app.kek.toString('hex') });

test.serial(
  'an operator sets a webhook (a new secret, shown once), lists the dropped delivery and replays it with the same webhook-id',
  async (t) => {
    let status = 410;
    receiver = await startReceiver(() => status);
    const person = await registerNamedPerson(app, 'cli16');
    const gov = await registerClient(app, 'government');
    await tokensFor(app, gov.config, person, 'openid address offline_access');

    const set = await services(['webhook', gov.service.client_id, '--url', receiver.url, '--json']);
    t.is(set.code, 0, set.stderr);
    const { webhook_secret: secret } = JSON.parse(set.stdout) as { webhook_secret: string };
    t.regex(secret, /^whsec_/);
    const row = await app.service.deps.db('webhook_endpoints').where({ client_id: gov.service.client_id }).first();
    t.false(Buffer.from(row.secret).toString('latin1').includes(secret.slice(6)), 'the secret is sealed at rest');

    await app.request('PUT', '/api/v1/profile/update-info', {
      token: person.token,
      json: { updated_fields: { home_address: { locality: 'Surrey', country: 'CA' } } },
    });
    const [gone] = await receiver.waitFor(1);
    let listed: { delivery_id: string; state: string; webhook_id: string }[] = [];
    for (let i = 0; i < 100 && listed.length === 0; i++) {
      const run = await services(['deliveries', 'list', '--state', 'dropped', '--json']);
      t.is(run.code, 0, run.stderr);
      listed = JSON.parse(run.stdout);
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    t.is(listed.length, 1);
    t.is(listed[0].webhook_id, gone.headers['webhook-id']);
    const text = await services(['deliveries', 'list']);
    t.regex(text.stdout, /dropped\s+profile\.updated/);
    t.regex(text.stdout, /endpoint disabled/);

    status = 200;
    const replay = await services(['deliveries', 'replay', listed[0].delivery_id]);
    t.is(replay.code, 0, replay.stderr);
    t.regex(replay.stdout, /1 deliveries queued again/);
    const [, again] = await receiver.waitFor(2);
    t.is(again.headers['webhook-id'], gone.headers['webhook-id']);
    t.like(verified(secret, again), { type: 'profile.updated', fields: ['home_address'] });
    const unknown = await services(['deliveries', 'replay', '00000000-0000-4000-8000-000000000000']);
    t.not(unknown.code, 0);
  },
);

test.serial('a fan-out given up on is listed, outlives the purge, and replay --all-failed tells the service after all', async (t) => {
  const seen = await startReceiver(() => 200);
  t.teardown(() => seen.close());
  const person = await registerNamedPerson(app, 'fan16');
  const gov = await registerClient(app, 'government');
  await tokensFor(app, gov.config, person, 'openid address offline_access');
  const set = await services(['webhook', gov.service.client_id, '--url', seen.url, '--json']);
  t.is(set.code, 0, set.stderr);
  const { webhook_secret: secret } = JSON.parse(set.stdout) as { webhook_secret: string };

  // The change is written while no worker runs; its fan-out then ends as the worker ends one after its last attempt.
  const { db } = app.service.deps;
  await app.service.worker.stop();
  try {
    const res = await app.request('PUT', '/api/v1/profile/update-info', {
      token: person.token,
      json: { updated_fields: { home_address: { locality: 'Delta', country: 'CA' } } },
    });
    t.is(res.status, 200, res.text);
    const updated = await db('outbox')
      .where({ kind: 'webhook_fanout', state: 'pending' })
      .update({ state: 'failed', attempts: 8, last_error: 'the database went away' });
    t.is(updated, 1);
    await app.service.deps.outbox.purge(db, 0);
    t.is(
      Number((await db('outbox').where({ kind: 'webhook_fanout', state: 'failed' }).count({ n: '*' }))[0].n),
      1,
      'a fan-out given up on outlives the purge',
    );
  } finally {
    app.service.worker.start();
  }
  const listed = await services(['deliveries', 'fanouts', '--json']);
  t.is(listed.code, 0, listed.stderr);
  const fanouts = JSON.parse(listed.stdout) as { fanout_id: string; attempts: number; last_error: string }[];
  t.is(fanouts.length, 1);
  t.like(fanouts[0], { attempts: 8, last_error: 'the database went away' });
  t.regex((await services(['deliveries', 'fanouts'])).stdout, /given up\s+attempts 8/);

  const replay = await services(['deliveries', 'replay', '--all-failed', '--json']);
  t.is(replay.code, 0, replay.stderr);
  t.deepEqual(JSON.parse(replay.stdout).fanouts_requeued, [fanouts[0].fanout_id]);
  const [told] = await seen.waitFor(1);
  t.like(verified(secret, told), { type: 'profile.updated', fields: ['home_address'] });
  t.is((await services(['deliveries', 'fanouts'])).stdout.trim(), 'no fan-out given up on');
});
