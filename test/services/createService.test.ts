// Registering a service through the admin API: operators only, the secret shown once and stored as a hash.
import test from 'ava';
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { dataResource, discover } from '../helpers/oidc.ts';
import { register } from '../accounts/fixtures.ts';
import { auditOf, makeOperator } from './fixtures.ts';

const app = useTestApp();
let operator: Awaited<ReturnType<typeof register>>;
test.before(async () => {
  operator = await register(app);
  await makeOperator(app, operator);
});

const VALID = { name: 'City of Burnaby', role: 'government', redirect_uris: ['https://burnaby.example/callback'] };

test('an operator registers a service: 201, the client secret once, stored only as its hash', async (t) => {
  const res = await app.request('POST', '/api/v1/admin/services', {
    token: operator.token,
    json: {
      ...VALID,
      redirect_uris: ['https://burnaby.example/callback', 'http://127.0.0.1:8123/cb'],
      // Redirect URIs on two hosts: a pairwise subject (the default) would need them on one.
      subject_type: 'public',
      scope: 'openid email address',
      webhook_url: 'https://burnaby.example/hooks/ringfence',
      backchannel_logout_uri: 'https://burnaby.example/logout',
    },
  });
  t.is(res.status, 201, res.text);
  t.like(res.body, {
    status: 'success',
    name: 'City of Burnaby',
    role: 'government',
    scope: 'openid email address',
    webhook_url: 'https://burnaby.example/hooks/ringfence',
    backchannel_logout_uri: 'https://burnaby.example/logout',
    disabled_at: null,
    last_used_at: null,
  });
  t.regex(res.body.client_id, /^svc_[A-Za-z0-9_-]{22}$/);
  const secret: string = res.body.client_secret;
  t.true(secret.length >= 43);

  const row = await app.service.deps.db('services').where({ client_id: res.body.client_id }).first();
  t.is(row.secret_hash, createHash('sha256').update(secret).digest('hex'), 'the database holds the SHA-256 of the secret');
  t.false(JSON.stringify(row).includes(secret), 'and never the secret itself');
  t.is(row.webhook_url, 'https://burnaby.example/hooks/ringfence', 'the webhook URL is kept for the signed events to come');

  const shown = await app.request('GET', `/api/v1/admin/services/${res.body.client_id}`, { token: operator.token });
  t.is(shown.status, 200);
  t.false('client_secret' in shown.body, 'the secret is never shown again');
  t.false(shown.text.includes(secret));

  const events = await auditOf(app, 'service.registered');
  const event = events.find((e) => e.data.client_id === res.body.client_id);
  t.truthy(event);
  t.is(event!.actor, `user:${operator.user_id}`);
  t.like(event!.data, { name: 'City of Burnaby', role: 'government' });
  t.false(JSON.stringify(event).includes(secret), 'the audit log never holds the secret');
});

test('the secret shown is the one the token endpoint accepts, and no other', async (t) => {
  const res = await app.request('POST', '/api/v1/admin/services', { token: operator.token, json: VALID });
  t.is(res.status, 201);
  const good = await discover(app, res.body.client_id, res.body.client_secret);
  const tokens = await client.clientCredentialsGrant(good, { resource: dataResource(app) });
  t.truthy(tokens.access_token);
  const bad = await discover(app, res.body.client_id, `${res.body.client_secret.slice(0, -1)}x`);
  const err = await t.throwsAsync(client.clientCredentialsGrant(bad, { resource: dataResource(app) }));
  t.is((err as { error?: string }).error, 'invalid_client');
});

test('bad redirect URIs, an unknown role and an unknown scope are refused with 400, naming each field', async (t) => {
  const res = await app.request('POST', '/api/v1/admin/services', {
    token: operator.token,
    json: {
      name: 'Sloppy Service',
      role: 'astrologer',
      redirect_uris: ['http://sloppy.example/cb', 'https://sloppy.example/cb#fragment', 'https://ok.example/cb'],
      scope: 'openid email horoscope',
      backchannel_logout_uri: 'http://sloppy.example/logout',
    },
  });
  assertError(t, res, 400, 'invalid_service');
  const byPath = Object.fromEntries((res.body.details as { path: string; message: string }[]).map((d) => [d.path, d.message]));
  t.deepEqual(Object.keys(byPath).sort(), ['backchannel_logout_uri', 'redirect_uris.0', 'redirect_uris.1', 'role', 'scope']);
  t.regex(byPath['redirect_uris.0'], /must use https \(plain http is allowed only for localhost\)/);
  t.regex(byPath['redirect_uris.1'], /must not contain a fragment/);
  t.regex(byPath.role, /must be one of the roles in policies\/roles: .*government/);
  t.regex(byPath.scope, /unknown scopes horoscope/);
  t.regex(res.body.status, /role must be one of/);
  t.is(await app.service.deps.db('services').where({ name: 'Sloppy Service' }).first(), undefined, 'nothing registered');
});

test('a control character in the name is refused with 400 naming it, and nothing is registered', async (t) => {
  for (const name of ['\u0000', 'Ctl\u0000of Burnaby', 'Ctl\u0007', 'Ctl\u0085of', 'Ctl\u2028of']) {
    const res = await app.request('POST', '/api/v1/admin/services', { token: operator.token, json: { ...VALID, name } });
    assertError(t, res, 400, 'invalid_service');
    t.deepEqual(res.body.details, [{ path: 'name', message: 'contains control characters: send plain text' }], res.text);
  }
  t.is(await app.service.deps.db('services').where('name', 'like', 'Ctl%').first(), undefined, 'nothing registered');
});

test('a malformed body is refused by the contract: missing fields, a non-URI, an unknown property', async (t) => {
  const missing = await app.request('POST', '/api/v1/admin/services', { token: operator.token, json: { name: 'x' } });
  assertError(t, missing, 400, 'validation_failed');
  const paths = (missing.body.details as { path: string }[]).map((d) => d.path).sort();
  t.deepEqual(paths, ['redirect_uris', 'role']);
  const notUri = await app.request('POST', '/api/v1/admin/services', { token: operator.token, json: { ...VALID, redirect_uris: ['not a uri'] } });
  assertError(t, notUri, 400, 'validation_failed');
  t.is(notUri.body.details[0].path, 'redirect_uris.0');
  const extra = await app.request('POST', '/api/v1/admin/services', { token: operator.token, json: { ...VALID, client_secret: 'mine' } });
  assertError(t, extra, 400, 'validation_failed');
  const none = await app.request('POST', '/api/v1/admin/services', { token: operator.token, json: { ...VALID, redirect_uris: [] } });
  assertError(t, none, 400, 'validation_failed');
});

test('a user who is not an operator gets 403, and no token gets 401', async (t) => {
  const someone = await register(app);
  const before = await app.service.deps.db('services').count({ n: '*' }).first();
  assertError(
    t,
    await app.request('POST', '/api/v1/admin/services', { token: someone.token, json: VALID }),
    403,
    'not_an_operator',
    /npm run services -- operator/,
  );
  assertError(t, await app.request('POST', '/api/v1/admin/services', { json: VALID }), 401, undefined, 'token must exist!');
  assertError(t, await app.request('POST', '/api/v1/admin/services', { token: 'not-a-session', json: VALID }), 401);
  t.deepEqual(await app.service.deps.db('services').count({ n: '*' }).first(), before);
});
