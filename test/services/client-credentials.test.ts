// Client credentials: a service may get a token for the data API on its own behalf, but such a token carries no
// person, so it reads nobody's profile.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { disableService } from '../../src/oidc/services.ts';
import { assertError } from '../helpers/assert.ts';
import { dataResource, registerClient } from '../helpers/oidc.ts';

const app = useTestApp();

test('a service gets a client-credentials token for the data API, and introspection shows it carries no person', async (t) => {
  const { config, service } = await registerClient(app, 'government');
  const tokens = await client.clientCredentialsGrant(config, { resource: dataResource(app) });
  t.is(tokens.token_type, 'bearer');
  t.is(tokens.expires_in, 600);
  t.is(tokens.refresh_token, undefined);
  t.is(tokens.id_token, undefined);
  const info = await client.tokenIntrospection(config, tokens.access_token);
  t.true(info.active);
  t.is(info.client_id, service.client_id);
  t.is(info.aud, dataResource(app));
  t.is(info.sub, undefined, 'no person behind it');
  await t.throwsAsync(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck), undefined, 'userinfo has nobody to describe');
});

test('a client-credentials token for another resource is refused at the token endpoint', async (t) => {
  const { config } = await registerClient(app, 'government');
  const err = await t.throwsAsync(client.clientCredentialsGrant(config, { resource: 'https://elsewhere.example/api' }));
  t.is((err as { error?: string }).error, 'invalid_target');
});

test('the data API answers a client-credentials token 403 insufficient_scope: it carries no person', async (t) => {
  const { config } = await registerClient(app, 'government');
  const tokens = await client.clientCredentialsGrant(config, { resource: dataResource(app) });
  const res = await app.request('GET', '/api/v1/data/profile', { token: tokens.access_token });
  assertError(t, res, 403, 'insufficient_scope', /carries no person/);
});

test('a client-credentials token of a disabled service is refused 401 at the data API, like every token of it', async (t) => {
  const { config, service } = await registerClient(app, 'government');
  const tokens = await client.clientCredentialsGrant(config, { resource: dataResource(app) });
  await disableService(app.service.deps.db, service.client_id);
  const res = await app.request('GET', '/api/v1/data/profile', { token: tokens.access_token });
  assertError(t, res, 401, 'invalid_token', /disabled/);
});
