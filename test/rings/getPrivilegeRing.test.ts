import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { RINGS } from './fixtures.ts';

const app = useTestApp();

test('a default ring is found by its name, in any case', async (t) => {
  const s = await register(app);
  const res = await app.request('GET', `${RINGS}/Restricted`, { token: s.token });
  t.is(res.status, 200, res.text);
  t.like(res.body.ring, { ring_id: 'restricted', kind: 'default', fields: ['drivers_license_number', 'passport_number', 'national_id'] });
});

test('a custom ring is found by its id, by its owner only', async (t) => {
  const s = await register(app);
  const other = await register(app);
  const made = await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'gov', assigned_data: { fields: ['nationality'], roles: ['government'] } },
  });
  const res = await app.request('GET', `${RINGS}/${made.body.ring_id}`, { token: s.token });
  t.is(res.status, 200);
  t.like(res.body.ring, { ring_id: made.body.ring_id, name: 'gov', fields: ['nationality'] });
  assertError(t, await app.request('GET', `${RINGS}/${made.body.ring_id}`, { token: other.token }), 404, 'ring_not_found');
});

test('an unknown or malformed ring id is refused', async (t) => {
  const s = await register(app);
  assertError(
    t,
    await app.request('GET', `${RINGS}/3f0e4c55-7a7b-4b53-b7c2-7c1b1a0e9d11`, { token: s.token }),
    404,
    'ring_not_found',
    /GET \/api\/v1\/profile\/privilege-rings lists them/,
  );
  assertError(t, await app.request('GET', `${RINGS}/friends`, { token: s.token }), 404, 'ring_not_found');
  assertError(t, await app.request('GET', `${RINGS}/no_such!ring`, { token: s.token }), 400, 'validation_failed', /ring_id/);
  assertError(t, await app.request('GET', `${RINGS}/public`), 401, 'token_missing');
});
