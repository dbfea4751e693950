/**
 * Revocation is told (seed API 8, step 5; the third Must show): revoking a service, narrowing its consent,
 * or disabling it sends it a signed `grant.revoked` event, besides the back-channel logout; the next data API call
 * is refused. And an endpoint that answers 410 Gone is disabled, the operator sees it, and a replay delivers the
 * same event (the same webhook-id) once it is fixed.
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { dataResource, registerClient, subjectAt, tokensFor } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver } from '../helpers/webhooks.ts';
import { makeOperator, registerNamedPerson } from '../services/fixtures.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();
const receivers: Receiver[] = [];
test.after.always(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(respond?: (n: number) => number): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

const SCOPE = 'openid email address offline_access';

test.serial('revoking the government service delivers it a signed grant.revoked, and its next data API call is refused', async (t) => {
  const person = await registerNamedPerson(app, 'rev16_a');
  const hooks = await receiver();
  const gov = await registerClient(app, 'government', { webhookUrl: hooks.url });
  const tokens = await tokensFor(app, gov.config, person, SCOPE);
  const data = await client.refreshTokenGrant(gov.config, tokens.refresh_token!, { resource: dataResource(app) });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);

  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: gov.service.client_id } });
  t.is(revoke.status, 200, revoke.text);
  t.deepEqual(revoke.body.notified, { backchannel_logout: false, webhook: true });

  const [hook] = await hooks.waitFor(1);
  const event = verified(gov.webhookSecret!, hook);
  t.like(event, { type: 'grant.revoked', reason: 'revoked', subject: await subjectAt(app, gov.service.client_id, person.userId) });
  t.regex(hook.headers['webhook-id'], /^msg_[0-9a-f]{32}$/);

  const refused = await app.request('GET', '/api/v1/data/profile', { token: data.access_token });
  t.is(refused.status, 401);
  t.is(refused.body.error, 'invalid_token');
});

test.serial('narrowing consent tells the service which scopes it lost', async (t) => {
  const person = await registerNamedPerson(app, 'rev16_b');
  const hooks = await receiver();
  const gov = await registerClient(app, 'government', { webhookUrl: hooks.url });
  await tokensFor(app, gov.config, person, SCOPE);
  await tokensFor(app, gov.config, person, SCOPE, { decline: ['address'] });
  const [hook] = await hooks.waitFor(1);
  t.like(verified(gov.webhookSecret!, hook), { type: 'grant.revoked', reason: 'narrowed', scopes: ['address'] });
});

test.serial('disabling a service tells it of every grant it loses, though it is disabled', async (t) => {
  const operator = await register(app);
  await makeOperator(app, operator);
  const alice = await registerNamedPerson(app, 'rev16_c');
  const bob = await registerNamedPerson(app, 'rev16_d');
  const hooks = await receiver();
  const gov = await registerClient(app, 'government', { webhookUrl: hooks.url });
  await tokensFor(app, gov.config, alice, SCOPE);
  await tokensFor(app, gov.config, bob, SCOPE);
  const disabled = await app.request('POST', `/api/v1/admin/services/${gov.service.client_id}/disable`, { token: operator.token });
  t.is(disabled.status, 200, disabled.text);
  const got = (await hooks.waitFor(2)).map((h) => verified(gov.webhookSecret!, h));
  const again = await app.request('POST', `/api/v1/admin/services/${gov.service.client_id}/disable`, { token: operator.token });
  t.is(again.status, 200);
  await new Promise((r) => setTimeout(r, 500));
  t.is(hooks.received.length, 2, 'disabling it again tells it nothing new');
  t.true(got.every((e) => e.type === 'grant.revoked' && e.reason === 'service_disabled'));
  t.deepEqual(
    got.map((e) => e.subject).sort(),
    [await subjectAt(app, gov.service.client_id, alice.userId), await subjectAt(app, gov.service.client_id, bob.userId)].sort(),
  );
});

test.serial('410 Gone disables the endpoint, the operator sees it, and a replay delivers the same event once fixed', async (t) => {
  const operator = await register(app);
  await makeOperator(app, operator);
  const person = await registerNamedPerson(app, 'rev16_e');
  let status = 410;
  const hooks = await receiver(() => status);
  const gov = await registerClient(app, 'government', { webhookUrl: hooks.url });
  await tokensFor(app, gov.config, person, SCOPE);
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: { updated_fields: { home_address: { locality: 'Surrey', country: 'CA' } } },
  });
  t.is(update.status, 200, update.text);
  t.is(update.body.services_told, 1);

  const [gone] = await hooks.waitFor(1);

  // The operator is told: the endpoint is disabled, the delivery dropped; the next change tells nobody.
  let failed: { body: any } = { body: {} };
  for (let i = 0; i < 100; i++) {
    failed = await app.request('GET', '/api/v1/admin/deliveries?state=dropped', { token: operator.token });
    if (failed.body.deliveries?.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(failed.body.deliveries.length, 1);
  t.like(failed.body.deliveries[0], {
    service_id: gov.service.client_id,
    state: 'dropped',
    last_status: 410,
    webhook_id: gone.headers['webhook-id'],
  });
  t.truthy(failed.body.deliveries[0].endpoint_disabled_at);
  const audit = await app.service.deps
    .db('audit_events')
    .where({ action: 'webhook.endpoint_disabled' })
    .whereRaw(`data->>'client_id' = ?`, [gov.service.client_id]);
  t.is(audit.length, 1);
  const next = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: { updated_fields: { home_address: { locality: 'Delta', country: 'CA' } } },
  });
  t.is(next.body.services_told, 0, 'a disabled endpoint is not told');
  const own = await app.request('GET', '/api/v1/profile/deliveries', { token: person.token });
  t.like(
    own.body.deliveries.find((d: { type: string }) => d.type === 'profile.updated'),
    { state: 'dropped', service_id: gov.service.client_id },
  );

  // Fixed: the operator replays it, and the same event arrives with the same webhook-id.
  status = 200;
  const replay = await app.request('POST', `/api/v1/admin/deliveries/${failed.body.deliveries[0].delivery_id}/replay`, { token: operator.token });
  t.is(replay.status, 200, replay.text);
  const [, again] = await hooks.waitFor(2);
  t.is(again.headers['webhook-id'], gone.headers['webhook-id']);
  t.is(again.body, gone.body);
  t.like(verified(gov.webhookSecret!, again), { type: 'profile.updated', fields: ['home_address'] });
  const twice = await app.request('POST', `/api/v1/admin/deliveries/${failed.body.deliveries[0].delivery_id}/replay`, { token: operator.token });
  t.true(twice.status === 200 || twice.status === 404, 'a delivered event is not replayed once delivered');
});
