import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from './fixtures.ts';

const app = useTestApp();

const LOGOUT = '/api/v1/auth/logout';
const me = (token: string) => app.request('GET', '/api/v1/auth/me', { token });
const login = (email: string, password: string) => app.request('POST', '/api/v1/users/login', { json: { email, password } });

test('logout ends this session: its token and its refresh token stop working, other sessions go on', async (t) => {
  const session = await register(app);
  const other = await login(session.person.email, session.person.password);
  const res = await app.request('POST', LOGOUT, { token: session.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.sessions_ended, 1);
  assertError(t, await me(session.token), 401, 'token_revoked', 'token has been revoked: log in again');
  assertError(t, await app.request('POST', '/api/v1/auth/refresh', { json: { refresh_token: session.refresh_token } }), 401, 'invalid_grant');
  t.is((await me(other.body.token)).status, 200);
});

test('a refresh token of another of my sessions ends that one too; one of someone else is ignored', async (t) => {
  const session = await register(app);
  const mine = await login(session.person.email, session.person.password);
  const stranger = await register(app);
  const res = await app.request('POST', LOGOUT, { token: session.token, json: { refresh_token: mine.body.refresh_token } });
  t.is(res.body.sessions_ended, 2);
  assertError(t, await me(mine.body.token), 401, 'token_revoked');
  await app.request('POST', LOGOUT, { json: { token: mine.body.token, refresh_token: stranger.refresh_token } });
  t.is((await me(stranger.token)).status, 200);
});

test('seed clients may send the token as a body field', async (t) => {
  const session = await register(app);
  const res = await app.request('POST', LOGOUT, { form: { token: session.token } });
  t.is(res.status, 200, res.text);
  assertError(t, await me(session.token), 401, 'token_revoked');
});

test('without a token: 401 "token must exist!"; with an expired one: 401 "token has expired!"', async (t) => {
  assertError(t, await app.request('POST', LOGOUT), 401, 'token_missing', 'token must exist!');
  const session = await register(app);
  await app.service.deps
    .db('sessions')
    .where({ user_id: session.user_id })
    .update({ access_expires_at: new Date(Date.now() - 1) });
  const expired = await app.request('POST', LOGOUT, { token: session.token });
  assertError(t, expired, 401, 'token_expired', 'token has expired!');
  t.is(expired.headers.get('www-authenticate'), 'Bearer');
});
