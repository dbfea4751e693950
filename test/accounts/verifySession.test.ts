import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from './fixtures.ts';

const app = useTestApp();

const VERIFY = '/api/v1/auth/verify';

test('a live token is active, with its user and expiry', async (t) => {
  const session = await register(app);
  const res = await app.request('POST', VERIFY, { json: { token: session.token } });
  t.is(res.status, 200);
  t.true(res.body.active);
  t.is(res.body.user_id, session.user_id);
  const expires = Date.parse(res.body.expires_at) - Date.now();
  t.true(expires > 800_000 && expires <= 900_000);
});

test('unknown, expired and logged-out tokens are not active', async (t) => {
  t.deepEqual((await app.request('POST', VERIFY, { json: { token: 'nope' } })).body, { status: 'success', active: false });
  const expired = await register(app);
  await app.service.deps
    .db('sessions')
    .where({ user_id: expired.user_id })
    .update({ access_expires_at: new Date(Date.now() - 1000) });
  t.false((await app.request('POST', VERIFY, { form: { token: expired.token } })).body.active);
  const out = await register(app);
  t.is((await app.request('POST', '/api/v1/auth/logout', { token: out.token })).status, 200);
  t.false((await app.request('POST', VERIFY, { json: { token: out.token } })).body.active);
});

test('the token is required, in the body', async (t) => {
  assertError(t, await app.request('POST', VERIFY, { json: {} }), 400, 'validation_failed', /token is required/);
  assertError(t, await app.request('POST', `${VERIFY}?token=abc`, { json: { token: 'abc' } }), 400, 'credential_in_query');
});
