import test from 'ava';
import YAML from 'yaml';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { addService } from '../helpers/oidc.ts';
import { RINGS } from './fixtures.ts';

const app = useTestApp();

const POLICY = `${RINGS}/policy`;

test('a new person downloads an empty ring policy: every field in its default ring', async (t) => {
  const s = await register(app);
  const res = await app.request('GET', POLICY, { token: s.token });
  t.is(res.status, 200, res.text);
  t.regex(res.headers.get('content-type') ?? '', /^application\/yaml/);
  t.regex(res.text, /^# Ring policy of user /);
  t.deepEqual(YAML.parse(res.text), { version: 1 });
});

test('the file holds the moved fields and custom rings, and uploading it back changes nothing', async (t) => {
  const s = await register(app);
  const clinic = (await addService(app, 'healthcare')).service.client_id;
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['home_address'] } } });
  await app.request('POST', RINGS, {
    token: s.token,
    json: {
      ring_name: 'Doctors',
      description: 'GP',
      assigned_data: { fields: ['allergies', 'medications'], roles: ['healthcare'], services: [clinic] },
    },
  });
  const res = await app.request('GET', POLICY, { token: s.token });
  t.deepEqual(YAML.parse(res.text), {
    version: 1,
    placements: { home_address: 'restricted' },
    custom_rings: [{ name: 'Doctors', description: 'GP', fields: ['allergies', 'medications'], roles: ['healthcare'], services: [clinic] }],
  });
  const before = await app.request('GET', RINGS, { token: s.token });
  const put = await app.request('PUT', POLICY, { token: s.token, raw: { body: res.text, type: 'application/yaml' } });
  t.is(put.status, 200, put.text);
  const after = await app.request('GET', RINGS, { token: s.token });
  t.deepEqual(after.body.rings, before.body.rings, 'same rings, same ids, same fields');
});

test("the policy file is the owner's only", async (t) => {
  assertError(t, await app.request('GET', POLICY), 401, 'token_missing', 'token must exist!');
});
