import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { RINGS, storedRings } from './fixtures.ts';

const app = useTestApp();

test('deleting a custom ring sends its fields back to their default rings', async (t) => {
  const s = await register(app);
  const made = await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'gone soon', assigned_data: { fields: ['bio', 'allergies'], roles: ['healthcare'] } },
  });
  const res = await app.request('DELETE', `${RINGS}/${made.body.ring_id}`, { token: s.token });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body.returned_fields.sort(), ['allergies', 'bio']);
  t.is(res.body.rings_version, 2);
  const rings = await storedRings(app, s.profile_id);
  t.is(rings.bio, 'public');
  t.is(rings.allergies, 'private');
  assertError(t, await app.request('GET', `${RINGS}/${made.body.ring_id}`, { token: s.token }), 404, 'ring_not_found');
  t.is(await app.service.deps.db('rings').where({ id: made.body.ring_id }).first(), undefined);
});

test('default rings cannot be deleted; unknown rings are not found', async (t) => {
  const s = await register(app);
  const other = await register(app);
  const made = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'mine', assigned_data: { fields: ['bio'] } } });
  assertError(
    t,
    await app.request('DELETE', `${RINGS}/private`, { token: s.token }),
    409,
    'default_ring',
    /private is a default ring and cannot be deleted/,
  );
  assertError(t, await app.request('DELETE', `${RINGS}/${made.body.ring_id}`, { token: other.token }), 404, 'ring_not_found');
  assertError(t, await app.request('DELETE', `${RINGS}/policy`, { token: s.token }), 404, 'ring_not_found');
  assertError(t, await app.request('DELETE', `${RINGS}/${made.body.ring_id}`), 401, 'token_missing');
  t.truthy(await app.service.deps.db('rings').where({ id: made.body.ring_id }).first());
});
