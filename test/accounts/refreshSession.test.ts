import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, register } from './fixtures.ts';

const app = useTestApp();

const REFRESH = '/api/v1/auth/refresh';
const me = (token: string) => app.request('GET', '/api/v1/auth/me', { token });

test('a refresh token buys a new pair once', async (t) => {
  const session = await register(app);
  const res = await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } });
  t.is(res.status, 200, res.text);
  t.is(res.body.expires_in, 900);
  t.not(res.body.token, session.token);
  t.not(res.body.refresh_token, session.refresh_token);
  t.is((await me(res.body.token)).status, 200);
  const again = await app.request('POST', REFRESH, { form: { refresh_token: res.body.refresh_token } });
  t.is(again.status, 200, 'the successor refreshes in turn');
});

test('refresh token reuse revokes the family: the reused token and its successor both stop working', async (t) => {
  const session = await register(app);
  const first = await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } });
  t.is(first.status, 200);

  // The spent token comes back: someone else has a copy.
  const reuse = await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } });
  assertError(t, reuse, 401, 'refresh_token_reused', /already used/);

  assertError(t, await app.request('POST', REFRESH, { json: { refresh_token: first.body.refresh_token } }), 401, 'invalid_grant', /revoked/);
  assertError(t, await me(first.body.token), 401, 'token_revoked');
  assertError(t, await me(session.token), 401, 'token_revoked');
  assertError(t, await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } }), 401, 'invalid_grant');

  const [event] = (await auditEvents(app, 'session.refresh_reuse')).filter((e) => e.subject === `user:${session.user_id}`);
  t.truthy(event);
  t.truthy(event.client_ip);
  t.false(JSON.stringify(event).includes(session.refresh_token));
});

test('reuse revokes only that family: other logins of the user go on', async (t) => {
  const session = await register(app);
  const other = await app.request('POST', '/api/v1/users/login', { json: { email: session.person.email, password: session.person.password } });
  await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } });
  await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } });
  t.is((await me(other.body.token)).status, 200);
});

test('two refreshes racing with one token: one wins, and the race counts as reuse', async (t) => {
  const session = await register(app);
  const results = await Promise.all([
    app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } }),
    app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } }),
  ]);
  t.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
  const winner = results.find((r) => r.status === 200)!;
  assertError(t, await me(winner.body.token), 401, 'token_revoked');
});

test('an unknown, an expired or a missing refresh token is refused', async (t) => {
  assertError(t, await app.request('POST', REFRESH, { json: { refresh_token: 'made-up-token' } }), 401, 'invalid_grant', /not valid/);
  const session = await register(app);
  await app.service.deps
    .db('sessions')
    .where({ user_id: session.user_id })
    .update({ refresh_expires_at: new Date(Date.now() - 1000) });
  assertError(
    t,
    await app.request('POST', REFRESH, { json: { refresh_token: session.refresh_token } }),
    401,
    'invalid_grant',
    'refresh_token has expired: log in again',
  );
  assertError(t, await app.request('POST', REFRESH, { json: {} }), 400, 'validation_failed', /refresh_token is required/);
  assertError(t, await app.request('POST', `${REFRESH}?refresh_token=x`, { json: { refresh_token: 'x' } }), 400, 'credential_in_query');
});
