/** GET /api/v1/profile/activity: the audit log of the caller's own data, newest first, paginated, by kind. */
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { registerPerson } from './helpers.ts';

const app = useTestApp();

test("newest first, only the caller's own events, pages that join up", async (t) => {
  const person = await registerPerson(app);
  const other = await registerPerson(app, 'grace');
  for (const bio of ['one', 'two', 'three']) {
    const res = await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: { updated_fields: { bio } } });
    t.is(res.status, 200);
  }
  const all = await app.request('GET', '/api/v1/profile/activity', { token: person.token });
  t.is(all.status, 200);
  const actions = all.body.events.map((e: { action: string }) => e.action);
  t.deepEqual(actions.slice(0, 3), ['profile.update', 'profile.update', 'profile.update']);
  t.is(actions.at(-1), 'user.register');
  t.true(all.body.events.every((e: { actor: string }) => e.actor === `user:${person.userId}` || e.actor === 'anonymous'));
  t.false(JSON.stringify(all.body).includes(other.userId), "another person's events are not there");
  const times = all.body.events.map((e: { at: string }) => Date.parse(e.at));
  t.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
  );

  const first = await app.request('GET', '/api/v1/profile/activity?limit=2', { token: person.token });
  t.is(first.body.events.length, 2);
  t.truthy(first.body.next_cursor);
  const second = await app.request('GET', `/api/v1/profile/activity?limit=2&cursor=${first.body.next_cursor}`, { token: person.token });
  t.deepEqual(
    [...first.body.events, ...second.body.events].map((e: { event_id: string }) => e.event_id),
    all.body.events.slice(0, 4).map((e: { event_id: string }) => e.event_id),
  );
});

test('kind keeps one kind of event', async (t) => {
  const person = await registerPerson(app);
  await app.request('POST', '/api/v1/users/login', { json: { handle: person.handle, password: person.password } });
  const sessions = await app.request('GET', '/api/v1/profile/activity?kind=session', { token: person.token });
  t.is(sessions.status, 200);
  t.true(sessions.body.events.length >= 1);
  t.true(sessions.body.events.every((e: { kind: string; action: string }) => e.kind === 'session' && e.action.startsWith('session.')));
  const none = await app.request('GET', '/api/v1/profile/activity?kind=grant', { token: person.token });
  t.deepEqual(none.body.events, []);
  t.is(none.body.next_cursor, null);
});

test('a bad kind or cursor is a 400 saying what to fix; no session is a 401', async (t) => {
  const person = await registerPerson(app);
  assertError(t, await app.request('GET', '/api/v1/profile/activity?kind=grant%25', { token: person.token }), 400, 'validation_failed');
  assertError(t, await app.request('GET', '/api/v1/profile/activity?cursor=bm90LWEtY3Vyc29y', { token: person.token }), 400, 'invalid_cursor');
  assertError(t, await app.request('GET', '/api/v1/profile/activity'), 401, 'token_missing');
});
