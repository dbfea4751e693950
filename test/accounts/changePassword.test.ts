import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, providerSession, register } from './fixtures.ts';

const app = useTestApp();

const PASSWORD = '/api/v1/auth/password';
const NEW_PASSWORD = 'violet otter under the bridge';

test('changing the password ends every other session and keeps this one', async (t) => {
  const session = await register(app);
  const other = await app.request('POST', '/api/v1/users/login', { json: { email: session.person.email, password: session.person.password } });
  const res = await app.request('PUT', PASSWORD, {
    token: session.token,
    json: { current_password: session.person.password, new_password: NEW_PASSWORD },
  });
  t.is(res.status, 200, res.text);
  t.is(res.body.sessions_ended, 1);
  t.is((await app.request('GET', '/api/v1/auth/me', { token: session.token })).status, 200);
  assertError(t, await app.request('GET', '/api/v1/auth/me', { token: other.body.token }), 401, 'token_revoked');
  assertError(t, await app.request('POST', '/api/v1/users/login', { json: { email: session.person.email, password: session.person.password } }), 401);
  t.is((await app.request('POST', '/api/v1/users/login', { json: { email: session.person.email, password: NEW_PASSWORD } })).status, 200);
  const [event] = (await auditEvents(app, 'password.change')).filter((e) => e.subject === `user:${session.user_id}`);
  t.truthy(event);
  t.false(JSON.stringify(event).includes(NEW_PASSWORD));
});

test('changing the password ends the account’s browser sessions at the OpenID provider, and no one else’s', async (t) => {
  const session = await register(app);
  const stranger = await register(app);
  const mine = await providerSession(app, session.user_id);
  const theirs = await providerSession(app, stranger.user_id);
  // A wrong current password ends nothing.
  assertError(
    t,
    await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: 'not my password', new_password: NEW_PASSWORD } }),
    400,
  );
  t.true(await mine.alive());
  const res = await app.request('PUT', PASSWORD, {
    token: session.token,
    json: { current_password: session.person.password, new_password: NEW_PASSWORD },
  });
  t.is(res.status, 200, res.text);
  t.false(await mine.alive());
  t.true(await theirs.alive());
});

test('a wrong current password changes nothing', async (t) => {
  const session = await register(app);
  const before = (await app.service.deps.db('users').where({ id: session.user_id }).first()).password_hash;
  const res = await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: 'not my password', new_password: NEW_PASSWORD } });
  assertError(t, res, 400, 'wrong_password', 'current_password is not your current password');
  t.is((await app.service.deps.db('users').where({ id: session.user_id }).first()).password_hash, before);
});

test('a weak or unchanged new password is refused with the reason', async (t) => {
  const session = await register(app);
  const current = session.person.password;
  assertError(
    t,
    await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: current, new_password: 'short' } }),
    400,
    'weak_password',
    /too short/,
  );
  assertError(
    t,
    await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: current, new_password: current } }),
    400,
    'weak_password',
    /same as the current password/,
  );
  assertError(
    t,
    await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: current } }),
    400,
    'validation_failed',
    /new_password is required/,
  );
});

test('guessable new passwords are refused with the estimator’s feedback, and one made of the handle too', async (t) => {
  const session = await register(app);
  const current = session.person.password;
  for (const new_password of ['password123', 'Password1!', 'qwerty123456']) {
    const res = await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: current, new_password } });
    assertError(t, res, 400, 'weak_password', /new_password is one of the most common passwords/);
    t.regex(res.body.details[0].message, /commonly used password/);
  }
  // The account's own handle, e-mail and name are what the new password is checked against.
  for (const new_password of [session.person.handle, `${session.person.handle}!2`, session.person.email]) {
    const res = await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: current, new_password } });
    assertError(t, res, 400, 'weak_password', /must not be your email, handle or name/);
  }
  const res = await app.request('PUT', PASSWORD, {
    token: session.token,
    json: { current_password: current, new_password: 'marmalade lighthouse sings under seventeen umbrellas' },
  });
  t.is(res.status, 200, res.text);
});

test('repeated wrong current passwords are throttled like logins', async (t) => {
  const session = await register(app);
  for (let i = 0; i < 5; i++) {
    await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: `guess ${i}`, new_password: NEW_PASSWORD } });
  }
  assertError(
    t,
    await app.request('PUT', PASSWORD, { token: session.token, json: { current_password: session.person.password, new_password: NEW_PASSWORD } }),
    429,
    'too_many_requests',
  );
});

test('changing the password needs a token', async (t) => {
  assertError(
    t,
    await app.request('PUT', PASSWORD, { json: { current_password: 'x', new_password: NEW_PASSWORD } }),
    401,
    'token_missing',
    'token must exist!',
  );
});
