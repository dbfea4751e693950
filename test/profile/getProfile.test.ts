import test from 'ava';
import { loadCatalogue } from '../../src/policy/catalogue.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

const catalogue = loadCatalogue();

test('the owner sees every catalogue field with its value, ring, type and provenance', async (t) => {
  const session = await register(app, { name: 'Ada Lovelace' });
  const res = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.profile_id, session.profile_id);
  t.is(res.body.user_id, session.user_id);
  t.is(res.body.version, 1);
  t.deepEqual(Object.keys(res.body.fields).sort(), [...catalogue.fields.keys()].sort());
  for (const def of catalogue.fields.values()) {
    const view = res.body.fields[def.name];
    t.is(view.ring, def.ring, def.name);
    t.is(view.type, def.type, def.name);
    if (def.claim) t.is(view.claim, def.claim);
  }
  t.like(res.body.fields.name, { value: 'Ada Lovelace', provenance: 'registration' });
  t.like(res.body.fields.email, { value: session.person.email, ring: 'private' });
  t.like(res.body.fields.handle, { value: session.person.handle, ring: 'public' });
  t.truthy(Date.parse(res.body.fields.name.updated_at));
  t.like(res.body.fields.bio, { value: null, provenance: null, updated_at: null });
  t.like(res.body.fields.age, { value: null, derived_from: 'date_of_birth', provenance: 'derived' });
});

test('derived fields are computed from their source', async (t) => {
  const session = await register(app);
  const year = new Date().getUTCFullYear() - 30;
  await app.request('PUT', '/api/v1/profile/update-info', { token: session.token, json: { updated_fields: { date_of_birth: `${year}-01-01` } } });
  const res = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.is(res.body.fields.age.value, 30);
  t.true(res.body.fields.age_over_18.value);
  t.is(res.body.fields.date_of_birth.value, `${year}-01-01`);
});

test('biometrics never appear in the profile', async (t) => {
  const res = await app.request('POST', '/api/v1/users/register', {
    json: {
      name: 'B',
      email: 'bio.person@example.com',
      handle: 'bio_person',
      password: 'correct horse battery staple',
      biometrics: 'TEMPLATE-ABC-123',
    },
  });
  const profile = await app.request('GET', '/api/v1/profile', { token: res.body.token });
  t.is(profile.status, 200);
  t.false(profile.text.includes('TEMPLATE-ABC-123'));
  t.false('biometrics' in profile.body.fields);
});

test('the profile needs a token', async (t) => {
  assertError(t, await app.request('GET', '/api/v1/profile'), 401, 'token_missing', 'token must exist!');
});
