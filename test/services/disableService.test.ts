// Disabling a service: its tokens stop working at once, at the data API and at the token endpoint.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { CALLBACK, dataResource, discover, startAuthorization, tokensFor, subjectAt } from '../helpers/oidc.ts';
import { register } from '../accounts/fixtures.ts';
import { auditOf, makeOperator, registerPerson } from './fixtures.ts';

const app = useTestApp();
let operator: Awaited<ReturnType<typeof register>>;
test.before(async () => {
  operator = await register(app);
  await makeOperator(app, operator);
});

async function createThroughApi(name: string) {
  const res = await app.request('POST', '/api/v1/admin/services', {
    token: operator.token,
    json: { name, role: 'government', redirect_uris: [CALLBACK] },
  });
  if (res.status !== 201) throw new Error(res.text);
  return { clientId: res.body.client_id as string, config: await discover(app, res.body.client_id, res.body.client_secret) };
}

test("disable refuses the service's data API token at once and its token endpoint use", async (t) => {
  const person = await registerPerson(app);
  const { clientId, config } = await createThroughApi('Soon disabled');
  const tokens = await tokensFor(app, config, person.person, 'openid email offline_access');
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);

  const res = await app.request('POST', `/api/v1/admin/services/${clientId}/disable`, { token: operator.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.client_id, clientId);
  t.truthy(res.body.disabled_at);

  assertError(t, await app.request('GET', '/api/v1/data/profile', { token: data.access_token }), 401, 'invalid_token');
  const refresh = await t.throwsAsync(client.refreshTokenGrant(config, data.refresh_token ?? tokens.refresh_token!));
  t.is((refresh as { error?: string }).error, 'invalid_client');
  const cc = await t.throwsAsync(client.clientCredentialsGrant(config, { resource: dataResource(app) }));
  t.is((cc as { error?: string }).error, 'invalid_client');
  await t.throwsAsync(
    client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id)),
    undefined,
    'userinfo refuses it too',
  );

  const events = (await auditOf(app, 'service.disabled')).filter((e) => e.data.client_id === clientId);
  t.is(events.length, 1);
  t.is(events[0].actor, `user:${operator.user_id}`);
});

test('a disabled service can no longer start an authorization: the person gets the error page', async (t) => {
  const { clientId, config } = await createThroughApi('Disabled before use');
  t.is((await app.request('POST', `/api/v1/admin/services/${clientId}/disable`, { token: operator.token })).status, 200);
  const err = await t.throwsAsync(startAuthorization(app, config, 'openid email'));
  t.regex(err!.message, /expected the login page, got 400/);
  t.regex(err!.message, /<title>Something went wrong · Ringfence<\/title>/);
});

test('disabling twice keeps the first date; the listing shows it disabled', async (t) => {
  const { clientId } = await createThroughApi('Twice disabled');
  const first = await app.request('POST', `/api/v1/admin/services/${clientId}/disable`, { token: operator.token });
  const second = await app.request('POST', `/api/v1/admin/services/${clientId}/disable`, { token: operator.token });
  t.is(second.status, 200);
  t.is(second.body.disabled_at, first.body.disabled_at);
  const shown = await app.request('GET', `/api/v1/admin/services/${clientId}`, { token: operator.token });
  t.is(shown.body.disabled_at, first.body.disabled_at);
});

test('an unknown client_id is 404; a non-operator 403; no token 401', async (t) => {
  assertError(t, await app.request('POST', '/api/v1/admin/services/svc_nobody/disable', { token: operator.token }), 404, 'service_not_found');
  const { clientId } = await createThroughApi('Protected');
  const someone = await register(app);
  assertError(t, await app.request('POST', `/api/v1/admin/services/${clientId}/disable`, { token: someone.token }), 403, 'not_an_operator');
  assertError(t, await app.request('POST', `/api/v1/admin/services/${clientId}/disable`), 401, undefined, 'token must exist!');
  const shown = await app.request('GET', `/api/v1/admin/services/${clientId}`, { token: operator.token });
  t.is(shown.body.disabled_at, null, 'refused requests disabled nothing');
  t.is((await auditOf(app, 'service.disabled')).filter((e) => e.data.client_id === clientId).length, 0);
});
