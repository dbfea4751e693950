/**
 * Behind a TLS-terminating proxy (BASE_URL https://…, TRUST_PROXY=true): the proxy's X-Forwarded-Proto makes the
 * request secure, so the authorization endpoint sets its secure cookies instead of failing. (With TRUST_PROXY at its
 * default, start-up refuses such a BASE_URL: test/platform/config.test.ts.)
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addService } from '../helpers/oidc.ts';

const app = useTestApp({ env: { BASE_URL: 'https://ringfence.test', TRUST_PROXY: 'true' } });

test('the authorization endpoint answers through the proxy with secure cookies', async (t) => {
  const { service } = await addService(app, 'government', { name: 'Proxied service', redirectUris: ['https://service.test/callback'] });
  const query = new URLSearchParams({
    client_id: service.client_id,
    response_type: 'code',
    redirect_uri: 'https://service.test/callback',
    scope: 'openid email',
    state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const res = await app.request('GET', `/oidc/auth?${query}`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' } });
  t.is(res.status, 303, res.text.slice(0, 300));
  t.regex(res.headers.get('location') ?? '', /^\/interaction\/[\w-]+$/);
  const cookies = res.headers.getSetCookie();
  t.true(cookies.length > 0);
  for (const c of cookies) t.regex(c, /; secure/i, c.split('=')[0]);
});

test('a request that reached the service unencrypted (around the proxy) gets a plain 400, never a 500', async (t) => {
  for (const path of ['/oidc/auth?client_id=x', '/oidc/.well-known/openid-configuration']) {
    const res = await app.request('GET', path, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assertError(t, res, 400, 'https_required', /served over HTTPS only: use https:\/\/ringfence\.test\/oidc/);
  }
  const secure = await app.request('GET', '/oidc/.well-known/openid-configuration', { headers: { 'x-forwarded-proto': 'https' } });
  t.is(secure.status, 200);
  t.is(secure.body.issuer, 'https://ringfence.test/oidc');
});
