// Sessions and devices: every live login and browser session at the provider, and the passkeys with last use; any
// session can be ended, only one's own.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, providerSession, register } from '../accounts/fixtures.ts';

const app = useTestApp();

test('lists first-party and provider sessions and passkeys; ends one of each', async (t) => {
  const person = await register(app);
  const stranger = await register(app);
  const login = await app.request('POST', '/api/v1/users/login', { json: { handle: person.person.handle, password: person.person.password } });
  const browserSession = await providerSession(app, person.user_id);
  await app.service.deps.db('passkeys').insert({
    id: randomUUID(),
    user_id: person.user_id,
    credential_id: 'cred-1',
    public_key: Buffer.from('not a real key'),
    counter: 0,
    transports: JSON.stringify(['internal']),
    name: 'Phone',
  });

  const res = await app.request('GET', '/api/v1/auth/sessions', { token: login.body.token });
  t.is(res.status, 200, res.text);
  const api = res.body.sessions.filter((s: { kind: string }) => s.kind === 'api');
  const browser = res.body.sessions.filter((s: { kind: string }) => s.kind === 'browser');
  t.is(api.length, 2, 'registration and the login');
  t.is(browser.length, 1);
  t.is(api.filter((s: { current: boolean }) => s.current).length, 1);
  t.true(api.every((s: { auth_method: string }) => s.auth_method === 'password'));
  t.deepEqual(
    res.body.passkeys.map((p: { name: string; last_used_at: unknown }) => [p.name, p.last_used_at]),
    [['Phone', null]],
  );
  t.false(res.text.includes('cred-1'), 'no credential id or key is shown');

  const other = api.find((s: { current: boolean }) => !s.current);
  assertError(t, await app.request('DELETE', `/api/v1/auth/sessions/${other.session_id}`, { token: stranger.token }), 404, 'session_not_found');
  const ended = await app.request('DELETE', `/api/v1/auth/sessions/${other.session_id}`, { token: login.body.token });
  t.is(ended.status, 200, ended.text);
  t.false(ended.body.ended_current);
  assertError(t, await app.request('GET', '/api/v1/auth/me', { token: person.token }), 401, 'token_revoked');
  t.is((await app.request('GET', '/api/v1/auth/me', { token: login.body.token })).status, 200);

  assertError(t, await app.request('DELETE', `/api/v1/auth/sessions/${browser[0].session_id}`, { token: stranger.token }), 404);
  t.true(await browserSession.alive());
  t.is((await app.request('DELETE', `/api/v1/auth/sessions/${browser[0].session_id}`, { token: login.body.token })).status, 200);
  t.false(await browserSession.alive());
  assertError(
    t,
    await app.request('DELETE', `/api/v1/auth/sessions/${browser[0].session_id}`, { token: login.body.token }),
    404,
    'session_not_found',
  );
  t.is((await auditEvents(app, 'session.ended')).filter((e) => e.subject === `user:${person.user_id}`).length, 2);

  const after = await app.request('GET', '/api/v1/auth/sessions', { token: login.body.token });
  t.is(after.body.sessions.length, 1);
});

test('sessions need a token', async (t) => {
  assertError(t, await app.request('GET', '/api/v1/auth/sessions'), 401, 'token_missing');
});
