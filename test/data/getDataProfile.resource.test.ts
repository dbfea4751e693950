// A third party with openid-client's defaults: `resource` sent at the authorization request only, never repeated at
// the token endpoint, and the token it gets reads the data API. Services that name no resource keep the OpenID
// Connect default (a userinfo token at the code exchange, a data API token from a refresh with `resource=`).
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { authorize, dataResource, registerClient, subjectAt } from '../helpers/oidc.ts';
import { registerPerson, specCheckedJson } from '../services/fixtures.ts';

const app = useTestApp();

test('resource at the authorization request only: the code exchange gives a data API token that reads the profile', async (t) => {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government');
  const resource = dataResource(app);
  // README "For third parties": this is its code, step by step.
  const flow = await authorize(app, config, person.person, 'openid email address offline_access', { extra: { resource } });
  // No `resource` at the token endpoint: openid-client's authorizationCodeGrant sends none unless told to.
  const tokens = await client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  const res = await client.fetchProtectedResource(config, tokens.access_token, new URL(`${resource}/profile`), 'GET');
  t.is(res.status, 200);
  const data = await specCheckedJson(t, app, 'GET', '/api/v1/data/profile', res);
  t.is(data.subject, await subjectAt(app, config, person.user_id));
  t.like(data.fields.home_address, { locality: 'Burnaby' });
  t.is(data.fields.email, person.person.email);

  // What it asked for sticks: a refresh without `resource` gives a data API token too.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  t.is((await app.request('GET', '/api/v1/data/profile', { token: refreshed.access_token })).status, 200);

  // The person revokes: from the service's side, the next read is a 401 challenge and the refresh token is dead.
  const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoked.status, 200, revoked.text);
  const refusal = await t.throwsAsync(client.fetchProtectedResource(config, refreshed.access_token, new URL(`${resource}/profile`), 'GET'), {
    instanceOf: client.WWWAuthenticateChallengeError,
  });
  t.is(refusal.status, 401);
  t.like(refusal.cause, [{ scheme: 'bearer' }]);
  t.deepEqual(await specCheckedJson(t, app, 'GET', '/api/v1/data/profile', refusal.response), {
    status: 'the access token is unknown or has been revoked',
    error: 'invalid_token',
  });
  const refreshError = await t.throwsAsync(client.refreshTokenGrant(config, refreshed.refresh_token ?? tokens.refresh_token!));
  t.is((refreshError as { error?: string }).error, 'invalid_grant');
});

test('no resource at the authorization request: the code exchange still gives a userinfo token, a refresh with resource a data API one', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const flow = await authorize(app, config, person.person, 'openid email offline_access');
  const tokens = await client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  t.is(userinfo.email, person.person.email);
  t.is((await app.request('GET', '/api/v1/data/profile', { token: tokens.access_token })).status, 401, 'a userinfo token is not for the data API');
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);
});
