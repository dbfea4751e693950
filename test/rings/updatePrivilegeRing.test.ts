import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, register } from '../accounts/fixtures.ts';
import { addService } from '../helpers/oidc.ts';
import { RINGS, storedRings } from './fixtures.ts';

const app = useTestApp();

test('a custom ring is replaced: fields it no longer lists go back to their default ring', async (t) => {
  const s = await register(app);
  const clinic = (await addService(app, 'healthcare')).service.client_id;
  const made = await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'care', assigned_data: { fields: ['allergies', 'bio'], roles: ['healthcare'] } },
  });
  const res = await app.request('PUT', `${RINGS}/${made.body.ring_id}`, {
    token: s.token,
    json: {
      ring_name: 'Care team',
      description: 'doctors and paramedics',
      assigned_data: { fields: ['allergies', 'blood_type'], roles: ['emergency_responder'], services: [clinic] },
    },
  });
  t.is(res.status, 200, res.text);
  t.like(res.body, { ring_id: made.body.ring_id, rings_version: 2, capped: [] });
  const rings = await storedRings(app, s.profile_id);
  t.is(rings.allergies, `custom:${made.body.ring_id}`);
  t.is(rings.blood_type, `custom:${made.body.ring_id}`);
  t.is(rings.bio, 'public');
  const shown = await app.request('GET', `${RINGS}/${made.body.ring_id}`, { token: s.token });
  t.like(shown.body.ring, {
    name: 'Care team',
    description: 'doctors and paramedics',
    admits: { roles: ['emergency_responder'], services: [clinic] },
  });
});

test('a default ring is replaced: fields moved into it earlier and not listed go back', async (t) => {
  const s = await register(app);
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['home_address', 'bio'] } } });
  const res = await app.request('PUT', `${RINGS}/restricted`, {
    token: s.token,
    json: { assigned_data: { fields: ['drivers_license_number', 'passport_number', 'national_id', 'home_address', 'phone'] } },
  });
  t.is(res.status, 200, res.text);
  const rings = await storedRings(app, s.profile_id);
  t.is(rings.home_address, 'restricted');
  t.is(rings.phone, 'restricted');
  t.is(rings.bio, 'public');
});

test('a default ring must keep the fields that belong to it by default', async (t) => {
  const s = await register(app);
  const res = await app.request('PUT', `${RINGS}/public`, { token: s.token, json: { assigned_data: { fields: ['handle', 'bio', 'website'] } } });
  assertError(t, res, 400, 'validation_failed', /avatar belongs to public by default: list it, or move it to another ring first/);
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'semi-private', assigned_data: { fields: ['avatar'] } } });
  const ok = await app.request('PUT', `${RINGS}/public`, { token: s.token, json: { assigned_data: { fields: ['handle', 'bio', 'website'] } } });
  t.is(ok.status, 200, ok.text);
});

test.serial('bad updates are refused and change nothing', async (t) => {
  const s = await register(app);
  const a = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'a', assigned_data: { fields: ['phone'] } } });
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'b', assigned_data: { fields: ['email'] } } });
  const before = await countRows(app, ['rings', 'ring_settings', 'audit_events']);
  const put = (id: string, json: unknown) => app.request('PUT', `${RINGS}/${id}`, { token: s.token, json });
  assertError(t, await put(a.body.ring_id, { ring_name: 'B', assigned_data: { fields: ['phone'] } }), 409, 'ring_exists');
  assertError(
    t,
    await put(a.body.ring_id, { ring_name: 'private', assigned_data: { fields: ['phone'] } }),
    400,
    'validation_failed',
    /default ring's name/,
  );
  assertError(
    t,
    await put('private', { ring_name: 'secret', assigned_data: { fields: ['email'] } }),
    400,
    'validation_failed',
    /default rings cannot be renamed/,
  );
  assertError(
    t,
    await put('private', { assigned_data: { fields: ['email'], roles: ['government'] } }),
    400,
    'validation_failed',
    /make a custom ring/,
  );
  assertError(
    t,
    await put(a.body.ring_id, { assigned_data: { fields: ['telepathy'] } }),
    400,
    'validation_failed',
    /telepathy is not a profile field/,
  );
  assertError(t, await put(a.body.ring_id, {}), 400, 'validation_failed', /assigned_data is required/);
  assertError(t, await put('3f0e4c55-7a7b-4b53-b7c2-7c1b1a0e9d11', { assigned_data: { fields: [] } }), 404, 'ring_not_found');
  assertError(t, await app.request('PUT', `${RINGS}/${a.body.ring_id}`, { json: { assigned_data: { fields: [] } } }), 401, 'token_missing');
  t.deepEqual(await countRows(app, ['rings', 'ring_settings', 'audit_events']), before);
});
