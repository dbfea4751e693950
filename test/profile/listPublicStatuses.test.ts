import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

test('others read only the public posts of a listed person, newest first, page by page', async (t) => {
  const session = await register(app);
  for (const [content, ring] of [
    ['one', 'public'],
    ['secret', 'private'],
    ['two', 'public'],
    ['friends', 'semi-private'],
    ['three', 'public'],
  ]) {
    await app.request('POST', '/api/v1/profile/statuses', { token: session.token, json: { content, ring } });
  }
  const url = `/api/v1/profiles/${session.person.handle}/statuses`;
  const all = await app.request('GET', url);
  t.is(all.status, 200, all.text);
  t.is(all.body.handle, session.person.handle);
  t.deepEqual(
    all.body.posts.map((p: { content: string }) => p.content),
    ['three', 'two', 'one'],
  );
  t.false(all.text.includes('secret'));
  t.false(all.text.includes('friends'));
  t.false('ring' in all.body.posts[0]);

  const first = await app.request('GET', `${url}?limit=2`);
  t.deepEqual(
    first.body.posts.map((p: { content: string }) => p.content),
    ['three', 'two'],
  );
  const second = await app.request('GET', `${url}?limit=2&cursor=${first.body.next_cursor}`);
  t.deepEqual(
    second.body.posts.map((p: { content: string }) => p.content),
    ['one'],
  );
  t.is(second.body.next_cursor, null);
  // Signed in as someone else changes nothing.
  const other = await register(app);
  const asOther = await app.request('GET', url, { token: other.token });
  t.deepEqual(
    asOther.body.posts.map((p: { content: string }) => p.content),
    ['three', 'two', 'one'],
  );
});

test('the posts of someone not listed, or of nobody, are not found', async (t) => {
  const session = await register(app);
  await app.request('POST', '/api/v1/profile/statuses', { token: session.token, json: { content: 'hello' } });
  await app.service.deps.db('profile_fields').where({ profile_id: session.profile_id, field: 'handle' }).update({ ring: 'private' });
  assertError(t, await app.request('GET', `/api/v1/profiles/${session.person.handle}/statuses`), 404, 'user_not_found', 'user not found');
  assertError(t, await app.request('GET', '/api/v1/profiles/nobody_at_all/statuses'), 404, 'user_not_found', 'user not found');
  assertError(t, await app.request('GET', `/api/v1/profiles/${session.person.handle}/statuses?cursor=zzz`), 400, 'invalid_cursor');
});

test('a cursor whose position overflows a bigint, or is not a whole number, is refused as invalid_cursor', async (t) => {
  const session = await register(app);
  await app.request('POST', '/api/v1/profile/statuses', { token: session.token, json: { content: 'hello' } });
  const cursor = (s: unknown) => Buffer.from(JSON.stringify({ v: 1, s }), 'utf8').toString('base64url');
  for (const s of ['9223372036854775808', '99999999999999999999999', '1'.repeat(100), '-1', '1e3', ' 1', '1\u0000', 1, 2 ** 63]) {
    const res = await app.request('GET', `/api/v1/profiles/${session.person.handle}/statuses?cursor=${cursor(s)}`);
    assertError(t, res, 400, 'invalid_cursor');
  }
  const last = await app.request('GET', `/api/v1/profiles/${session.person.handle}/statuses?cursor=${cursor('9223372036854775807')}`);
  t.is(last.status, 200, last.text);
  t.deepEqual(
    last.body.posts.map((p: { content: string }) => p.content),
    ['hello'],
  );
});
