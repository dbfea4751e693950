import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, register } from '../accounts/fixtures.ts';
import { addService } from '../helpers/oidc.ts';
import { RINGS, storedRings, UUID } from './fixtures.ts';

const app = useTestApp();

test('a new name makes a custom ring holding the fields and admitting the roles and services', async (t) => {
  const s = await register(app);
  const clinic = (await addService(app, 'healthcare')).service.client_id;
  const res = await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'My doctors', assigned_data: { fields: ['allergies', 'medications'], roles: ['emergency_responder'], services: [clinic] } },
  });
  t.is(res.status, 201, res.text);
  t.regex(res.body.ring_id, UUID);
  t.is(res.body.rings_version, 1);
  t.deepEqual(res.body.capped, []);
  const row = await app.service.deps.db('rings').where({ id: res.body.ring_id }).first();
  t.like(row, { user_id: s.user_id, name: 'My doctors', name_lower: 'my doctors' });
  t.deepEqual(row.roles, ['emergency_responder']);
  t.deepEqual(row.services, [clinic]);
  const rings = await storedRings(app, s.profile_id);
  t.is(rings.allergies, `custom:${res.body.ring_id}`);
  t.is(rings.medications, `custom:${res.body.ring_id}`);
});

test('seed clients may send the session token in the body', async (t) => {
  const s = await register(app);
  const res = await app.request('POST', RINGS, { json: { token: s.token, ring_name: 'family', assigned_data: { fields: ['phone'] } } });
  t.is(res.status, 201, res.text);
  t.is(res.body.status, 'success');
});

test('the name of a default ring moves the fields into it, and the public directory follows at once', async (t) => {
  const s = await register(app);
  await app.request('PUT', '/api/v1/profile/update-info', {
    token: s.token,
    json: { updated_fields: { bio: 'Analyst', home_address: { locality: 'Burnaby', country: 'CA' } } },
  });
  const before = await app.request('GET', `/api/v1/profiles/${s.person.handle}`);
  t.is(before.body.profile.fields.bio, 'Analyst');

  const hide = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['bio'] } } });
  t.is(hide.status, 200, hide.text);
  t.like(hide.body, { ring_id: 'restricted', rings_version: 1, capped: [] });
  t.false('bio' in (await app.request('GET', `/api/v1/profiles/${s.person.handle}`)).body.profile.fields);

  // Publishing the address is the owner's choice; commercial services still never get it through a grant.
  const publish = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'Public', assigned_data: { fields: ['home_address'] } } });
  t.is(publish.status, 200, publish.text);
  t.is(publish.body.ring_id, 'public');
  t.deepEqual(publish.body.capped, [
    {
      field: 'home_address',
      reader: 'role:commercial',
      reason: "home_address is classified private, beyond commercial's ceiling semi-private; no user setting can widen a ceiling",
    },
  ]);
  const after = await app.request('GET', `/api/v1/profiles/${s.person.handle}`);
  t.deepEqual(after.body.profile.fields.home_address, { locality: 'Burnaby', country: 'CA' });
});

test('moving the handle out of the public ring takes the person out of the directory', async (t) => {
  const s = await register(app);
  const res = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'private', assigned_data: { fields: ['handle'] } } });
  t.is(res.status, 200, res.text);
  assertError(t, await app.request('GET', `/api/v1/profiles/${s.person.handle}`), 404, 'user_not_found', 'user not found');
});

test('a custom ring never widens a role beyond its ceiling or rules: the answer says what is capped', async (t) => {
  const s = await register(app);
  const shop = (await addService(app, 'commercial')).service.client_id;
  const res = await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'shops', assigned_data: { fields: ['email', 'employer', 'date_of_birth'], roles: ['commercial'], services: [shop] } },
  });
  t.is(res.status, 201, res.text);
  t.deepEqual(
    res.body.capped.map((c: { reader: string; field: string }) => `${c.reader} ${c.field}`),
    ['role:commercial email', 'role:commercial date_of_birth', `service:${shop} email`, `service:${shop} date_of_birth`],
  );
  t.regex(res.body.capped[0].reason, /private is beyond commercial's ceiling semi-private/);
  t.regex(res.body.capped[1].reason, /ceiling|deny date_of_birth/);
});

test('ring changes are audited with the rings version and the policy revision', async (t) => {
  const s = await register(app);
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'work', assigned_data: { fields: ['employer'], roles: ['commercial'] } } });
  const event = await app.service.deps
    .db('audit_events')
    .where({ action: 'rings.create', actor: `user:${s.user_id}` })
    .first();
  t.truthy(event);
  t.is(event.data.rings_version, 1);
  t.is(event.data.policy_revision, app.service.deps.policy.engine.revision);
  t.deepEqual(event.data.fields, ['employer']);
});

test.serial('bad input is refused with the field and rule named, and nothing is written', async (t) => {
  const s = await register(app);
  const shop = (await addService(app, 'commercial')).service.client_id;
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'Family', assigned_data: { fields: ['phone'] } } });
  const before = await countRows(app, ['rings', 'ring_settings', 'profile_fields', 'audit_events']);
  const post = (json: unknown) => app.request('POST', RINGS, { token: s.token, json });

  assertError(
    t,
    await app.request('POST', RINGS, { json: { ring_name: 'x', assigned_data: { fields: [] } } }),
    401,
    'token_missing',
    'token must exist!',
  );
  assertError(t, await app.request('POST', RINGS, { token: 'not-a-token', json: { ring_name: 'x', assigned_data: { fields: [] } } }), 401);
  let res = await post({ ring_name: 'x', assigned_data: { fields: ['shoe_size'] } });
  assertError(t, res, 400, 'validation_failed');
  t.deepEqual(res.body.details, [{ path: 'assigned_data.fields[0]', message: 'shoe_size is not a profile field: GET /api/v1/profile lists them' }]);
  res = await post({ ring_name: 'x', assigned_data: { fields: ['home_address.locality'] } });
  assertError(t, res, 400, 'validation_failed', /rings hold whole fields: assign home_address/);
  res = await post({ ring_name: 'x', assigned_data: { fields: ['bio'], roles: ['pirate', 'public'] } });
  t.deepEqual(
    res.body.details.map((d: { path: string }) => d.path),
    ['assigned_data.roles[0]', 'assigned_data.roles[1]'],
  );
  assertError(
    t,
    await post({ ring_name: 'x', assigned_data: { fields: ['bio'], services: ['svc_nobody'] } }),
    400,
    'validation_failed',
    /no service with client_id svc_nobody/,
  );
  assertError(
    t,
    await post({ ring_name: 'private', assigned_data: { fields: ['bio'], services: [shop] } }),
    400,
    'validation_failed',
    /make a custom ring to admit specific roles or services/,
  );
  assertError(
    t,
    await post({ ring_name: 'private', assigned_data: { fields: [] } }),
    400,
    'validation_failed',
    /name the fields to move into private/,
  );
  assertError(t, await post({ ring_name: 'x' }), 400, 'validation_failed', /assigned_data is required/);
  assertError(t, await post({ ring_name: 'custom:x', assigned_data: { fields: [] } }), 400, 'validation_failed', /ring_name/);
  assertError(
    t,
    await post({ ring_name: 'x', assigned_data: { fields: ['bio'], colour: 'red' } }),
    400,
    'validation_failed',
    /colour is not a known field/,
  );
  assertError(t, await post({ ring_name: 'x', assigned_data: { fields: 'bio' } }), 400, 'validation_failed');
  assertError(t, await post({ ring_name: 'family', assigned_data: { fields: ['bio'] } }), 409, 'ring_exists', /already have a ring named family/);
  assertError(t, await app.request('POST', RINGS, { token: s.token, raw: { body: 'ring_name: x', type: 'application/yaml' } }), 415);
  t.deepEqual(await countRows(app, ['rings', 'ring_settings', 'profile_fields', 'audit_events']), before);
});
