// One service of the registry: operators only, never its secret.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { makeOperator } from './fixtures.ts';

const app = useTestApp();
let operator: Awaited<ReturnType<typeof register>>;
let created: { client_id: string; client_secret: string };
test.before(async () => {
  operator = await register(app);
  await makeOperator(app, operator);
  const res = await app.request('POST', '/api/v1/admin/services', {
    token: operator.token,
    json: {
      name: 'St. Mary Hospital',
      role: 'healthcare',
      redirect_uris: ['https://stmary.example/cb'],
      logo_uri: 'https://stmary.example/logo.png',
    },
  });
  if (res.status !== 201) throw new Error(res.text);
  created = res.body;
});

test('an operator reads one service as registered, without its secret', async (t) => {
  const res = await app.request('GET', `/api/v1/admin/services/${created.client_id}`, { token: operator.token });
  t.is(res.status, 200);
  t.like(res.body, {
    status: 'success',
    client_id: created.client_id,
    name: 'St. Mary Hospital',
    role: 'healthcare',
    redirect_uris: ['https://stmary.example/cb'],
    post_logout_redirect_uris: [],
    logo_uri: 'https://stmary.example/logo.png',
    webhook_url: null,
    disabled_at: null,
  });
  t.false('client_secret' in res.body);
  t.false('secret_hash' in res.body);
});

test('an unknown client_id is 404, a malformed one 400', async (t) => {
  assertError(
    t,
    await app.request('GET', '/api/v1/admin/services/svc_doesnotexist', { token: operator.token }),
    404,
    'service_not_found',
    /svc_doesnotexist/,
  );
  assertError(t, await app.request('GET', '/api/v1/admin/services/not%20an%20id', { token: operator.token }), 400, 'validation_failed');
});

test('a user who is not an operator gets 403, and no token gets 401', async (t) => {
  const someone = await register(app);
  assertError(t, await app.request('GET', `/api/v1/admin/services/${created.client_id}`, { token: someone.token }), 403, 'not_an_operator');
  assertError(t, await app.request('GET', `/api/v1/admin/services/${created.client_id}`), 401, undefined, 'token must exist!');
});
