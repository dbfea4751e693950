// What the provider announces, and that its token endpoints keep each service to its own tokens.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { dataResource, registerClient, tokensFor, subjectAt } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();

test('discovery lists code with PKCE (S256 only), revocation, introspection, end_session and back-channel logout', async (t) => {
  const res = await fetch(`${app.url}/oidc/.well-known/openid-configuration`);
  t.is(res.status, 200);
  const meta = await res.json();
  const oidc = `${app.url}/oidc`;
  t.is(meta.issuer, oidc);
  t.deepEqual(meta.response_types_supported, ['code']);
  t.deepEqual(meta.code_challenge_methods_supported, ['S256'], 'plain PKCE is never offered');
  t.deepEqual([...meta.grant_types_supported].sort(), ['authorization_code', 'client_credentials', 'refresh_token']);
  t.is(meta.revocation_endpoint, `${oidc}/token/revocation`);
  t.is(meta.introspection_endpoint, `${oidc}/token/introspection`);
  t.is(meta.end_session_endpoint, `${oidc}/session/end`);
  t.is(meta.userinfo_endpoint, `${oidc}/me`);
  t.is(meta.jwks_uri, `${oidc}/jwks`);
  t.true(meta.backchannel_logout_supported);
  t.true(meta.backchannel_logout_session_supported);
  t.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256', 'ES256'], 'asymmetric only: secrets are stored hashed');
  t.deepEqual(meta.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
  for (const scope of ['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'ring:semi-private', 'ring:private']) {
    t.true(meta.scopes_supported.includes(scope), scope);
  }
});

test('an authorization request without PKCE, or with plain PKCE, is refused', async (t) => {
  const { config } = await registerClient(app, 'government');
  const base = { redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid email', state: 's' };
  const none = await fetch(client.buildAuthorizationUrl(config, base), { redirect: 'manual' });
  const plain = await fetch(client.buildAuthorizationUrl(config, { ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), {
    redirect: 'manual',
  });
  const refusal = (res: Response) => {
    t.is(res.status, 303);
    const to = new URL(res.headers.get('location')!);
    t.is(to.searchParams.get('error'), 'invalid_request');
    return to.searchParams.get('error_description') ?? '';
  };
  t.regex(refusal(none), /requires PKCE/);
  t.regex(refusal(plain), /code_challenge_method/);
});

test("a service can introspect and revoke only its own tokens; revoking another's answers 200 and revokes nothing", async (t) => {
  const person = await registerPerson(app);
  const mine = await registerClient(app, 'government');
  const theirs = await registerClient(app, 'commercial');
  const tokens = await tokensFor(app, mine.config, person.person, 'openid email offline_access');
  const data = await client.refreshTokenGrant(mine.config, tokens.refresh_token!, { resource: dataResource(app) });

  const own = await client.tokenIntrospection(mine.config, data.access_token);
  t.like(own, { active: true, client_id: mine.service.client_id, sub: await subjectAt(app, mine.config, person.user_id) });
  const foreign = await client.tokenIntrospection(theirs.config, data.access_token);
  t.deepEqual(foreign, { active: false }, 'another service learns nothing about the token or the person');
  const foreignRefresh = await client.tokenIntrospection(theirs.config, data.refresh_token!);
  t.deepEqual(foreignRefresh, { active: false });

  // RFC 7009 §2.2: 200 for another service's live token as for an unknown one, so the answer tells nothing …
  await t.notThrowsAsync(client.tokenRevocation(theirs.config, data.access_token));
  await t.notThrowsAsync(client.tokenRevocation(theirs.config, data.refresh_token!));
  await t.notThrowsAsync(client.tokenRevocation(theirs.config, 'no-such-token'));
  // … and revokes nothing: the token, its refresh token and its grant still work.
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200, 'still valid');
  t.like(await client.tokenIntrospection(mine.config, data.refresh_token!), { active: true });

  await client.tokenRevocation(mine.config, data.access_token);
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 401, 'its own revocation takes effect at once');
  t.false((await client.tokenIntrospection(mine.config, data.access_token)).active);
});
