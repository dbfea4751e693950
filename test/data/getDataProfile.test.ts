/**
 * The data API (`GET /api/v1/data/profile`) read by a service a person granted in headless Chromium: only what the
 * role's ceiling, the consent and the service's standing allow, and nothing without a token for it.
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { useBrowser } from '../helpers/browser.ts';
import { authorizeInBrowser, registerClient, useCallback, subjectAt } from '../helpers/oidc.ts';
import { registerNamedPerson } from '../services/fixtures.ts';

const app = useTestApp();
const browser = useBrowser();
const callback = useCallback();

test.serial('a role whose ceiling excludes a field never receives it, even when it asks for the scope', async (t) => {
  const person = await registerNamedPerson(app, 'grace');
  const { config } = await registerClient(app, 'commercial', { redirectUris: [callback.url] });
  const { redirected, verifier, state } = await authorizeInBrowser(
    browser,
    callback.url,
    config,
    person,
    'openid address health ring:private offline_access',
  );
  const tokens = await client.authorizationCodeGrant(config, redirected, { pkceCodeVerifier: verifier, expectedState: state });
  const dataTokens = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${app.config.baseUrl}/api/v1/data` });
  const data = await app.request('GET', '/api/v1/data/profile', { token: dataTokens.access_token });
  t.is(data.status, 200);
  t.is(data.body.fields.home_address, undefined, 'private ring is above the commercial ceiling');
  t.is(data.body.fields.blood_type, undefined);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.userId));
  t.is(userinfo.address, undefined);
});

test.serial('narrowing consent takes the dropped fields away at once', async (t) => {
  const person = await registerNamedPerson(app, 'hedy');
  const { config } = await registerClient(app, 'government', { redirectUris: [callback.url] });
  const first = await authorizeInBrowser(browser, callback.url, config, person, 'openid email address offline_access');
  const t1 = await client.authorizationCodeGrant(config, first.redirected, { pkceCodeVerifier: first.verifier, expectedState: first.state });
  const resource = `${app.config.baseUrl}/api/v1/data`;
  const d1 = await client.refreshTokenGrant(config, t1.refresh_token!, { resource });
  t.truthy((await app.request('GET', '/api/v1/data/profile', { token: d1.access_token })).body.fields.home_address);

  // The person consents again, declining address this time: the old grant and its tokens are gone.
  const second = await authorizeInBrowser(browser, callback.url, config, person, 'openid email address offline_access', { decline: ['address'] });
  await client.authorizationCodeGrant(config, second.redirected, { pkceCodeVerifier: second.verifier, expectedState: second.state });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: d1.access_token })).status, 401);
});

test.serial('a disabled service is refused at once', async (t) => {
  const person = await registerNamedPerson(app, 'katherine');
  const { config, service } = await registerClient(app, 'government', { redirectUris: [callback.url] });
  const flow = await authorizeInBrowser(browser, callback.url, config, person, 'openid email offline_access');
  const tokens = await client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${app.config.baseUrl}/api/v1/data` });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);
  await app.service.deps.db('services').where({ client_id: service.client_id }).update({ disabled_at: new Date() });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 401);
  await t.throwsAsync(client.refreshTokenGrant(config, data.refresh_token ?? tokens.refresh_token!));
});

test.serial('the data API refuses a missing, unknown or non-bearer token', async (t) => {
  t.is((await app.request('GET', '/api/v1/data/profile')).body.status, 'token must exist!');
  t.is((await app.request('GET', '/api/v1/data/profile', { token: 'not-a-real-token' })).status, 401);
  t.is((await app.request('GET', '/api/v1/data/profile', { headers: { authorization: 'Basic abc' } })).status, 401);
});
