import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

const STATUSES = '/api/v1/profile/statuses';

test('the owner lists their posts in every ring, newest first, page by page', async (t) => {
  const session = await register(app);
  const other = await register(app);
  await app.request('POST', STATUSES, { token: other.token, json: { content: 'not mine' } });
  for (let i = 1; i <= 5; i++) {
    await app.request('POST', STATUSES, { token: session.token, json: { content: `post ${i}`, ring: i % 2 ? 'public' : 'private' } });
  }
  const first = await app.request('GET', `${STATUSES}?limit=2`, { token: session.token });
  t.is(first.status, 200, first.text);
  t.deepEqual(
    first.body.posts.map((p: { content: string }) => p.content),
    ['post 5', 'post 4'],
  );
  t.is(first.body.posts[1].ring, 'private');
  const second = await app.request('GET', `${STATUSES}?limit=2&cursor=${first.body.next_cursor}`, { token: session.token });
  t.deepEqual(
    second.body.posts.map((p: { content: string }) => p.content),
    ['post 3', 'post 2'],
  );
  const third = await app.request('GET', `${STATUSES}?limit=2&cursor=${second.body.next_cursor}`, { token: session.token });
  t.deepEqual(
    third.body.posts.map((p: { content: string }) => p.content),
    ['post 1'],
  );
  t.is(third.body.next_cursor, null);
  const all = await app.request('GET', STATUSES, { token: session.token });
  t.is(all.body.posts.length, 5);
  t.is(all.body.next_cursor, null);
});

test('without a limit a page holds 20 posts', async (t) => {
  const session = await register(app);
  for (let i = 0; i < 21; i++) await app.request('POST', STATUSES, { token: session.token, json: { content: `n${i}` } });
  const page = await app.request('GET', STATUSES, { token: session.token });
  t.is(page.body.posts.length, 20);
  t.truthy(page.body.next_cursor);
  const rest = await app.request('GET', `${STATUSES}?cursor=${page.body.next_cursor}`, { token: session.token });
  t.deepEqual(
    rest.body.posts.map((p: { content: string }) => p.content),
    ['n0'],
  );
});

test('a bad cursor or limit is refused; the list needs a token', async (t) => {
  const session = await register(app);
  assertError(t, await app.request('GET', `${STATUSES}?cursor=eyJ2IjoxfQ`, { token: session.token }), 400, 'invalid_cursor');
  const overflow = Buffer.from(JSON.stringify({ v: 1, s: '9223372036854775808' })).toString('base64url');
  assertError(t, await app.request('GET', `${STATUSES}?cursor=${overflow}`, { token: session.token }), 400, 'invalid_cursor');
  assertError(t, await app.request('GET', `${STATUSES}?limit=1000`, { token: session.token }), 400, 'validation_failed', /limit must be <= 100/);
  assertError(t, await app.request('GET', STATUSES), 401, 'token_missing', 'token must exist!');
});
