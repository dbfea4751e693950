// The services with access to my profile (`GET /api/v1/profile/access`): each live grant, its role, the fields the
// service sees now and when it last read them; nothing once revoked, and nothing to anyone but the signed-in person.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { dataResource, registerClient, tokensFor } from '../helpers/oidc.ts';
import { register } from '../accounts/fixtures.ts';
import { registerPerson } from '../services/fixtures.ts';

const app = useTestApp();

test('lists each service with a live grant: its role, the fields it sees now and its last read; none after revocation', async (t) => {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government');
  const tokens = await tokensFor(app, config, person.person, 'openid profile email address offline_access');
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);

  const access = await app.request('GET', '/api/v1/profile/access', { token: person.token });
  t.is(access.status, 200);
  t.is(access.body.services.length, 1);
  t.like(access.body.services[0], { service_id: service.client_id, role: 'government' });
  t.true(access.body.services[0].fields.includes('home_address'));
  t.truthy(access.body.services[0].last_used_at);

  const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoked.status, 200, revoked.text);
  t.deepEqual((await app.request('GET', '/api/v1/profile/access', { token: person.token })).body.services, []);
});

test('another person sees none of my services, and no token gets 401', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'commercial');
  await tokensFor(app, config, person.person, 'openid email');
  const other = await register(app);
  t.deepEqual((await app.request('GET', '/api/v1/profile/access', { token: other.token })).body.services, []);
  assertError(t, await app.request('GET', '/api/v1/profile/access'), 401, undefined, 'token must exist!');
});
