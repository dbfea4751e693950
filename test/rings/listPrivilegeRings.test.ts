import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { RINGS } from './fixtures.ts';

const app = useTestApp();

test('a new person has the four default rings holding the catalogue fields, and who each admits', async (t) => {
  const s = await register(app);
  const res = await app.request('GET', RINGS, { token: s.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.policy_revision, app.service.deps.policy.engine.revision);
  t.is(res.body.rings_version, 0);
  t.deepEqual(
    res.body.rings.map((r: { ring_id: string }) => r.ring_id),
    ['public', 'semi-private', 'private', 'restricted'],
  );
  const { policies } = app.service.deps.policy;
  for (const ring of res.body.rings) {
    t.is(ring.kind, 'default');
    t.deepEqual(
      ring.fields,
      [...policies.fields.values()].filter((f) => f.ring === ring.name).map((f) => f.name),
    );
  }
  t.deepEqual(res.body.rings[0].admits.roles, ['commercial', 'emergency_responder', 'government', 'healthcare', 'public']);
  t.deepEqual(res.body.rings[1].admits.roles, ['commercial', 'emergency_responder', 'government', 'healthcare']);
  t.deepEqual(res.body.rings[2].admits.roles, ['emergency_responder', 'government', 'healthcare']);
  t.deepEqual(res.body.rings[3].admits, { roles: [], services: [] });
});

test('moved fields and custom rings show where they are now', async (t) => {
  const s = await register(app);
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['home_address'] } } });
  const made = await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'Doctors', description: 'my GP', assigned_data: { fields: ['allergies'], roles: ['healthcare'] } },
  });
  const res = await app.request('GET', RINGS, { token: s.token });
  t.is(res.body.rings_version, 2);
  const byId = Object.fromEntries(res.body.rings.map((r: { ring_id: string }) => [r.ring_id, r]));
  t.true(byId.restricted.fields.includes('home_address'));
  t.false(byId.private.fields.includes('home_address'));
  t.false(byId.private.fields.includes('allergies'));
  t.like(byId[made.body.ring_id], {
    name: 'Doctors',
    kind: 'custom',
    description: 'my GP',
    fields: ['allergies'],
    admits: { roles: ['healthcare'], services: [] },
  });
});

test('another person sees only their own rings', async (t) => {
  const a = await register(app);
  const b = await register(app);
  await app.request('POST', RINGS, { token: a.token, json: { ring_name: 'secret club', assigned_data: { fields: ['phone'] } } });
  const res = await app.request('GET', RINGS, { token: b.token });
  t.false(res.body.rings.some((r: { name: string }) => r.name === 'secret club'));
  t.true(res.body.rings.find((r: { ring_id: string }) => r.ring_id === 'private').fields.includes('phone'));
});

test('without a session the rings are not shown', async (t) => {
  assertError(t, await app.request('GET', RINGS), 401, 'token_missing', 'token must exist!');
});
