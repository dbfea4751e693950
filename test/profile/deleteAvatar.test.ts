import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { png, upload } from './fixtures.ts';

const app = useTestApp();

test('removing the avatar deletes the picture and empties the field', async (t) => {
  const session = await register(app);
  await app.request('PUT', '/api/v1/profile/avatar', { token: session.token, multipart: upload(await png(), 'me.png', 'image/png') });
  const res = await app.request('DELETE', '/api/v1/profile/avatar', { token: session.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.version, 3);
  t.is(await app.service.deps.db('avatars').where({ profile_id: session.profile_id }).first(), undefined);
  const profile = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.is(profile.body.fields.avatar.value, null);
  assertError(t, await app.request('GET', `/api/v1/profiles/${session.person.handle}/avatar`), 404, 'avatar_not_found');
  assertError(
    t,
    await app.request('DELETE', '/api/v1/profile/avatar', { token: session.token }),
    404,
    'avatar_not_found',
    'you have no avatar to remove',
  );
});

test('removing the avatar needs a token', async (t) => {
  assertError(t, await app.request('DELETE', '/api/v1/profile/avatar'), 401, 'token_missing', 'token must exist!');
});
