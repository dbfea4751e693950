// Sign-in challenges for anonymous callers are limited per client address; a signed-in person's step-up is not.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

test('past the limit of challenges from one address, key and passkey sign-in challenges are 429 with Retry-After', async (t) => {
  const person = await register(app);
  t.is((await app.request('POST', '/api/v1/auth/key-challenge', { json: { handle: person.person.handle } })).status, 200);
  const row = await app.service.deps.db('login_throttle').where('key', 'like', 'challenge-ip:%').first();
  t.truthy(row, 'the challenge counted against the address');
  await app.service.deps.db('login_throttle').where({ key: row.key }).update({ failures: 120 });
  for (const [path, json] of [
    ['/api/v1/auth/key-challenge', { handle: person.person.handle }],
    ['/api/v1/auth/passkey/options', {}],
  ] as const) {
    const res = await app.request('POST', path, { json });
    assertError(t, res, 429, 'too_many_requests', /too many sign-in challenges/);
    t.regex(res.headers.get('retry-after') ?? '', /^\d+$/);
  }
  t.is(
    (await app.request('POST', '/api/v1/auth/key-challenge', { token: person.token, json: {} })).status,
    200,
    'a step-up challenge is not counted',
  );
});

test('an Authorization header that names no session is refused, not taken for an anonymous caller', async (t) => {
  for (const [path, json] of [
    ['/api/v1/auth/passkey/options', {}],
    ['/api/v1/auth/key-challenge', { handle: 'someone' }],
  ] as const) {
    for (const authorization of ['Bearer [e[O', 'Basic dXNlcjpwYXNz']) {
      assertError(t, await app.request('POST', path, { json, headers: { authorization } }), 401, 'invalid_token');
    }
  }
});
