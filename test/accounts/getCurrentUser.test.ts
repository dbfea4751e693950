import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from './fixtures.ts';

const app = useTestApp();

const ME = '/api/v1/auth/me';

test('me shows who the token belongs to, and no secret', async (t) => {
  const session = await register(app, { name: 'Grace Hopper' });
  const res = await app.request('GET', ME, { token: session.token });
  t.is(res.status, 200, res.text);
  t.like(res.body, {
    status: 'success',
    user_id: session.user_id,
    profile_id: session.profile_id,
    handle: session.person.handle,
    name: 'Grace Hopper',
    email: session.person.email,
    email_verified: false,
    public_key: null,
    biometrics_enrolled: false,
  });
  t.truthy(res.body.session.session_id);
  t.false(res.text.includes(session.person.password));
  t.false(res.text.includes('argon2'));
  t.is(res.headers.get('cache-control'), 'no-store');
});

test('no token: 401 "token must exist!"', async (t) => {
  assertError(t, await app.request('GET', ME), 401, 'token_missing', 'token must exist!');
  assertError(t, await app.request('GET', ME, { headers: { authorization: 'Basic YWRhOnB3' } }), 401, 'token_missing', 'token must exist!');
});

test('an expired token: 401 "token has expired!"', async (t) => {
  const session = await register(app);
  await app.service.deps
    .db('sessions')
    .where({ user_id: session.user_id })
    .update({ access_expires_at: new Date(Date.now() - 1000) });
  assertError(t, await app.request('GET', ME, { token: session.token }), 401, 'token_expired', 'token has expired!');
});

test('an unknown token is refused, and a token in the query string is never read', async (t) => {
  assertError(t, await app.request('GET', ME, { token: 'x'.repeat(43) }), 401, 'invalid_token', 'token is not valid: log in again');
  const session = await register(app);
  assertError(t, await app.request('GET', `${ME}?token=${session.token}`), 400, 'credential_in_query');
});
