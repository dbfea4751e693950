import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

test('the owner deletes a post; it is gone, and deleting it again is 404', async (t) => {
  const session = await register(app);
  const created = await app.request('POST', '/api/v1/profile/statuses', { token: session.token, json: { content: 'regrettable' } });
  const id = created.body.post.status_id;
  const res = await app.request('DELETE', `/api/v1/profile/statuses/${id}`, { token: session.token });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { status: 'success', status_id: id });
  t.is((await app.request('GET', '/api/v1/profile/statuses', { token: session.token })).body.posts.length, 0);
  assertError(t, await app.request('DELETE', `/api/v1/profile/statuses/${id}`, { token: session.token }), 404, 'status_not_found');
});

test("nobody deletes someone else's post", async (t) => {
  const owner = await register(app);
  const other = await register(app);
  const created = await app.request('POST', '/api/v1/profile/statuses', { token: owner.token, json: { content: 'mine' } });
  const id = created.body.post.status_id;
  assertError(t, await app.request('DELETE', `/api/v1/profile/statuses/${id}`, { token: other.token }), 404, 'status_not_found');
  assertError(t, await app.request('DELETE', `/api/v1/profile/statuses/${id}`), 401, 'token_missing', 'token must exist!');
  t.is((await app.request('GET', '/api/v1/profile/statuses', { token: owner.token })).body.posts.length, 1);
});
