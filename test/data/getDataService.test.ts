/**
 * The serviceClientToken scheme (`GET /api/v1/data/service`): a service calls as itself with a client credentials
 * token for the data API; a token under a person's grant, a userinfo token, a disabled service's and none are refused.
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { dataResource, registerClient, serviceClientToken, tokensFor } from '../helpers/oidc.ts';
import { registerPerson } from '../services/fixtures.ts';

const app = useTestApp();

test('a client credentials token answers who the service is', async (t) => {
  const registered = await registerClient(app, 'emergency_responder', { name: 'City Ambulance Service' });
  const res = await app.request('GET', '/api/v1/data/service', { token: await serviceClientToken(app, registered) });
  t.is(res.status, 200, res.text);
  t.like(res.body, { client_id: registered.service.client_id, name: 'City Ambulance Service', role: 'emergency_responder' });
  t.deepEqual(res.body.token_scopes, []);
});

test("a token under a person's grant is refused with 403, a userinfo token and none with 401", async (t) => {
  const person = await registerPerson(app);
  const registered = await registerClient(app, 'government');
  const tokens = await tokensFor(app, registered.config, person.person, 'openid email offline_access');
  const data = await client.refreshTokenGrant(registered.config, tokens.refresh_token!, { resource: dataResource(app) });
  const asPerson = await app.request('GET', '/api/v1/data/service', { token: data.access_token });
  assertError(t, asPerson, 403, 'insufficient_scope');
  t.regex(asPerson.body.status, /client credentials/);
  assertError(t, await app.request('GET', '/api/v1/data/service', { token: tokens.access_token }), 401, 'invalid_token');
  assertError(t, await app.request('GET', '/api/v1/data/service'), 401, 'token_missing');
});

test("a disabled service's token is refused on its next request", async (t) => {
  const registered = await registerClient(app, 'emergency_responder');
  const token = await serviceClientToken(app, registered);
  t.is((await app.request('GET', '/api/v1/data/service', { token })).status, 200);
  await app.service.deps.db('services').where({ client_id: registered.service.client_id }).update({ disabled_at: new Date() });
  assertError(t, await app.request('GET', '/api/v1/data/service', { token }), 401, 'invalid_token');
});
