/**
 * End to end with real parts: a third party played by openid-client (discovery, PKCE, code exchange, userinfo,
 * refresh, introspection), a person in headless Chromium signing in and consenting on the real pages, then
 * revoking — after which the same access and refresh tokens fail.
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { useBrowser } from '../helpers/browser.ts';
import { authorizeInBrowser, fetchJwks, registerClient, useCallback, verifiesWithJwks, subjectAt } from '../helpers/oidc.ts';
import { registerNamedPerson } from './fixtures.ts';

const app = useTestApp();
const browser = useBrowser();
const callback = useCallback();

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
  const person = await registerNamedPerson(app, 'ada');
  const { config, service } = await registerClient(app, 'government', { redirectUris: [callback.url] });
  const scope = 'openid profile email address offline_access';
  const { redirected, verifier, state, consentText } = await authorizeInBrowser(browser, callback.url, config, person, scope, {
    screenshot: 'consent-page.png',
  });
  t.regex(consentText, /Test government service/);
  t.regex(consentText, /government/);
  t.regex(consentText, /home_address/, 'the consent page lists the fields the engine would release');

  const tokens = await client.authorizationCodeGrant(config, redirected, { pkceCodeVerifier: verifier, expectedState: state });
  const claims = tokens.claims()!;
  t.is(claims.sub, await subjectAt(app, config, person.userId));
  t.truthy(tokens.refresh_token);
  t.true(verifiesWithJwks(tokens.id_token!, await fetchJwks(app)), 'the JWKS verifies the ID token');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.userId));
  t.is(userinfo.email, 'ada@example.org');
  t.like(userinfo.address as object, { locality: 'Burnaby' });

  // A token for the data API, from the refresh token with the resource indicator (RFC 8707).
  const resource = `${app.config.baseUrl}/api/v1/data`;
  const dataTokens = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource });
  const data = await app.request('GET', '/api/v1/data/profile', { token: dataTokens.access_token });
  t.is(data.status, 200, data.text);
  t.is(data.body.subject, await subjectAt(app, config, person.userId));
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
  await t.throwsAsync(client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.userId)));
  t.deepEqual((await app.request('GET', '/api/v1/profile/access', { token: person.token })).body.services, []);
});
