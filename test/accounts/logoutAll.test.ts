import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, providerSession, register } from './fixtures.ts';

const app = useTestApp();

test('logout-all ends every session of the account and no one else’s', async (t) => {
  const session = await register(app);
  const stranger = await register(app);
  const logins = await Promise.all(
    [1, 2].map(() => app.request('POST', '/api/v1/users/login', { json: { handle: session.person.handle, password: session.person.password } })),
  );
  const res = await app.request('POST', '/api/v1/auth/logout-all', { token: logins[0].body.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.sessions_ended, 3);
  for (const token of [session.token, logins[0].body.token, logins[1].body.token]) {
    assertError(t, await app.request('GET', '/api/v1/auth/me', { token }), 401, 'token_revoked');
  }
  t.is((await app.request('GET', '/api/v1/auth/me', { token: stranger.token })).status, 200);
  t.true((await auditEvents(app, 'session.logout_all')).some((e) => e.subject === `user:${session.user_id}`));
});

test('logout-all also ends the account’s browser sessions at the OpenID provider, and no one else’s', async (t) => {
  const session = await register(app);
  const stranger = await register(app);
  const mine = [await providerSession(app, session.user_id), await providerSession(app, session.user_id)];
  const theirs = await providerSession(app, stranger.user_id);
  t.is((await app.request('POST', '/api/v1/auth/logout-all', { token: session.token })).status, 200);
  for (const s of mine) t.false(await s.alive());
  t.true(await theirs.alive());
});

test('logout-all needs a token', async (t) => {
  assertError(t, await app.request('POST', '/api/v1/auth/logout-all', { json: {} }), 401, 'token_missing', 'token must exist!');
  assertError(t, await app.request('POST', '/api/v1/auth/logout-all', { token: 'invented' }), 401, 'invalid_token');
});
