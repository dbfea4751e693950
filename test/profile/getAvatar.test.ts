import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { png, upload } from './fixtures.ts';

const app = useTestApp();

async function withAvatar() {
  const session = await register(app);
  const res = await app.request('PUT', '/api/v1/profile/avatar', { token: session.token, multipart: upload(await png(), 'me.png', 'image/png') });
  return { ...session, url: new URL(res.body.avatar.url) };
}

test('anyone gets a public avatar, with its type, ETag and a public cache lifetime', async (t) => {
  const s = await withAvatar();
  const res = await app.request('GET', s.url.pathname + s.url.search);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'image/png');
  t.regex(res.headers.get('etag') ?? '', /^"[0-9a-f]{64}"$/);
  t.is(res.headers.get('cache-control'), 'public, max-age=60');
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
});

test('once the owner moves the avatar out of the public ring, only the owner gets it', async (t) => {
  const s = await withAvatar();
  await app.service.deps.db('profile_fields').where({ profile_id: s.profile_id, field: 'avatar' }).update({ ring: 'private' });
  assertError(t, await app.request('GET', s.url.pathname), 404, 'avatar_not_found', 'this user has no public avatar');
  const own = await app.request('GET', s.url.pathname, { token: s.token });
  t.is(own.status, 200);
  t.is(own.headers.get('cache-control'), 'private, no-store');
  // Another signed-in user is the public too.
  const other = await register(app);
  assertError(t, await app.request('GET', s.url.pathname, { token: other.token }), 404, 'avatar_not_found');
});

test('an unknown handle, or a person without an avatar, gets 404', async (t) => {
  assertError(t, await app.request('GET', '/api/v1/profiles/nobody_here/avatar'), 404, 'user_not_found', 'user not found');
  const s = await register(app);
  assertError(t, await app.request('GET', `/api/v1/profiles/${s.person.handle}/avatar`), 404, 'avatar_not_found');
  assertError(
    t,
    await app.request('GET', `/api/v1/profiles/${s.person.handle}/avatar`, { token: s.token }),
    404,
    'avatar_not_found',
    'this user has no avatar',
  );
});

test('a person whose handle is not public is not found, avatar included', async (t) => {
  const s = await withAvatar();
  await app.service.deps.db('profile_fields').where({ profile_id: s.profile_id, field: 'handle' }).update({ ring: 'semi-private' });
  assertError(t, await app.request('GET', s.url.pathname), 404, 'user_not_found', 'user not found');
});
