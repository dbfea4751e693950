/**
 * End to end with real parts: a third party played by openid-client (discovery, PKCE, code exchange, userinfo,
 * refresh, introspection), a person in headless Chromium signing in and consenting on the real pages, then
 * revoking — after which the same access and refresh tokens fail.
 */
import test from 'ava';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { launchBrowser } from '../helpers/browser.ts';
import * as oidc from '../helpers/oidc.ts';
import { fetchJwks, verifiesWithJwks } from './fixtures.ts';

let app: TestApp;
let browser: Browser;
let callback: oidc.Callback;
let callbackUrl: string;
const PASSWORD = 'correct horse battery staple';

test.before(async () => {
  app = await startTestApp('services-oidc-flow');
  browser = await launchBrowser();
  callback = await oidc.startCallback();
  callbackUrl = callback.url;
});
test.after.always(async () => {
  await browser?.close();
  await callback?.close();
  await app?.close();
});

async function registerPerson(handle: string) {
  const res = await app.request('POST', '/api/v1/users/register', {
    json: { name: 'Ada Lovelace', email: `${handle}@example.org`, handle, password: PASSWORD },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: res.body.token,
    json: {
      updated_fields: {
        home_address: { street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z1', country: 'CA' },
        blood_type: 'O-',
        date_of_birth: '1990-12-10',
      },
    },
  });
  if (update.status !== 200) throw new Error(`update failed: ${update.text}`);
  return { userId: res.body.user_id as string, token: res.body.token as string, handle };
}

/** The flow helpers live in test/helpers/oidc.ts; these bind them to this file's app, browser and callback. */
const registerClient = (role: string, scope?: string) => oidc.registerClient(app, callbackUrl, role, scope);
const authorize = (config: client.Configuration, person: { handle: string }, scope: string, options: { screenshot?: string; decline?: string[] } = {}) =>
  oidc.authorize(browser, callbackUrl, config, { handle: person.handle, password: PASSWORD }, scope, options);

test.serial('discovery lists code + PKCE, revocation and introspection', async (t) => {
  const res = await fetch(`${app.url}/oidc/.well-known/openid-configuration`);
  t.is(res.status, 200);
  const meta = await res.json();
  t.is(meta.issuer, `${app.url}/oidc`);
  t.deepEqual(meta.response_types_supported, ['code']);
  t.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  t.truthy(meta.revocation_endpoint);
  t.truthy(meta.introspection_endpoint);
  t.truthy(meta.jwks_uri);
  t.true(meta.grant_types_supported.includes('client_credentials'));
});

test.serial('the full flow: consent in a browser, tokens, userinfo, data API, refresh, then revocation', async (t) => {
  const person = await registerPerson('ada');
  const { config, service } = await registerClient('government');
  const scope = 'openid profile email address offline_access';
  const { redirected, verifier, state, consentText } = await authorize(config, person, scope, { screenshot: 'consent-page.png' });
  t.regex(consentText, /Test government service/);
  t.regex(consentText, /government/);
  t.regex(consentText, /home_address/, 'the consent page lists the fields the engine would release');

  const tokens = await client.authorizationCodeGrant(config, redirected, { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  t.is(claims.sub, person.userId);
  t.truthy(tokens.refresh_token);
  t.true(verifiesWithJwks(tokens.id_token!, await fetchJwks(app)), 'the JWKS verifies the ID token');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, person.userId);
  t.is(userinfo.email, 'ada@example.org');
  t.like(userinfo.address as object, { locality: 'Burnaby' });

  // A token for the data API, from the refresh token with the resource indicator (RFC 8707).
  const resource = `${app.config.baseUrl}/api/v1/data`;
  const dataTokens = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource });
  const data = await app.request('GET', '/api/v1/data/profile', { token: dataTokens.access_token });
  t.is(data.status, 200, data.text);
  t.is(data.body.subject, person.userId);
  t.like(data.body.fields.home_address, { locality: 'Burnaby' });
  t.is(data.body.fields.blood_type, undefined, 'health data never reaches a government service');
  t.regex(data.body.policy_revision, /^[0-9a-f]{64}$/);

  const access = await app.request('GET', '/api/v1/profile/access', { token: person.token });
  t.is(access.status, 200);
  t.is(access.body.services.length, 1);
  t.like(access.body.services[0], { service_id: service.client_id, role: 'government' });
  t.true(access.body.services[0].fields.includes('home_address'));
  t.truthy(access.body.services[0].last_used_at);

  // Revocation: the very next call with the old tokens fails.
  const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', {
    token: person.token,
    json: { service_id: service.client_id },
  });
  t.is(revoked.status, 200, revoked.text);
  t.is(revoked.body.revoked.grants, 1);
  t.true(revoked.body.revoked.access_tokens >= 1);

  const after = await app.request('GET', '/api/v1/data/profile', { token: dataTokens.access_token });
  t.is(after.status, 401);
  const refreshError = await t.throwsAsync(client.refreshTokenGrant(config, dataTokens.refresh_token ?? tokens.refresh_token!));
  t.is((refreshError as { error?: string }).error, 'invalid_grant');
  const introspected = await client.tokenIntrospection(config, dataTokens.access_token);
  t.false(introspected.active);
  await t.throwsAsync(client.fetchUserInfo(config, tokens.access_token, person.userId));
  t.deepEqual((await app.request('GET', '/api/v1/profile/access', { token: person.token })).body.services, []);
});

test.serial('a role whose ceiling excludes a field never receives it, even when it asks for the scope', async (t) => {
  const person = await registerPerson('grace');
  const { config } = await registerClient('commercial');
  const { redirected, verifier, state } = await authorize(config, person, 'openid address health ring:private offline_access');
  const tokens = await client.authorizationCodeGrant(config, redirected, { pkceCodeVerifier: verifier, expectedState: state });
  const dataTokens = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${app.config.baseUrl}/api/v1/data` });
  const data = await app.request('GET', '/api/v1/data/profile', { token: dataTokens.access_token });
  t.is(data.status, 200);
  t.is(data.body.fields.home_address, undefined, 'private ring is above the commercial ceiling');
  t.is(data.body.fields.blood_type, undefined);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, person.userId);
  t.is(userinfo.address, undefined);
});

test.serial('narrowing consent takes the dropped fields away at once', async (t) => {
  const person = await registerPerson('hedy');
  const { config } = await registerClient('government');
  const first = await authorize(config, person, 'openid email address offline_access');
  const t1 = await client.authorizationCodeGrant(config, first.redirected, { pkceCodeVerifier: first.verifier, expectedState: first.state });
  const resource = `${app.config.baseUrl}/api/v1/data`;
  const d1 = await client.refreshTokenGrant(config, t1.refresh_token!, { resource });
  t.truthy((await app.request('GET', '/api/v1/data/profile', { token: d1.access_token })).body.fields.home_address);

  // The person consents again, declining address this time: the old grant and its tokens are gone.
  const second = await authorize(config, person, 'openid email address offline_access', { decline: ['address'] });
  await client.authorizationCodeGrant(config, second.redirected, { pkceCodeVerifier: second.verifier, expectedState: second.state });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: d1.access_token })).status, 401);
});

test.serial('a disabled service is refused at once', async (t) => {
  const person = await registerPerson('katherine');
  const { config, service } = await registerClient('government');
  const flow = await authorize(config, person, 'openid email offline_access');
  const tokens = await client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${app.config.baseUrl}/api/v1/data` });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);
  await app.service.deps.db('services').where({ client_id: service.client_id }).update({ disabled_at: new Date() });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 401);
  await t.throwsAsync(client.refreshTokenGrant(config, data.refresh_token ?? tokens.refresh_token!));
});

test.serial('revoke-access answers 405 `delete required` to POST, 404 for a service never granted, 401 without a token', async (t) => {
  const person = await registerPerson('mary');
  const post = await app.request('POST', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: 'svc_x' } });
  t.is(post.status, 405);
  t.is(post.body.status, 'delete required');
  const missing = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: 'svc_never' } });
  t.is(missing.status, 404);
  const bad = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: 'a b' } });
  t.is(bad.status, 400);
  const anon = await app.request('DELETE', '/api/v1/profile/revoke-access', { json: { service_id: 'svc_x' } });
  t.is(anon.status, 401);
  t.is(anon.body.status, 'token must exist!');
});

test.serial('the data API refuses a missing, unknown or non-bearer token', async (t) => {
  t.is((await app.request('GET', '/api/v1/data/profile')).body.status, 'token must exist!');
  t.is((await app.request('GET', '/api/v1/data/profile', { token: 'not-a-real-token' })).status, 401);
  t.is((await app.request('GET', '/api/v1/data/profile', { headers: { authorization: 'Basic abc' } })).status, 401);
});
