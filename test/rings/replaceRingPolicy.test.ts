import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, register } from '../accounts/fixtures.ts';
import { addService } from '../helpers/oidc.ts';
import { RINGS, storedRings } from './fixtures.ts';
import { MAX_REPORTED_PROBLEMS } from '../../src/policy/problems.ts';
import { RING_POLICY_UPLOADS } from '../../src/features/rings/rings.ts';
import { unknownKeys, unknownRoles } from '../policy/fixtures.ts';

const app = useTestApp();

const POLICY = `${RINGS}/policy`;
const upload = (token: string, body: string, type = 'application/yaml') => app.request('PUT', POLICY, { token, raw: { body, type } });

test('an uploaded ring policy replaces the whole configuration; rings are matched by name', async (t) => {
  const s = await register(app);
  const keep = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'Doctors', assigned_data: { fields: ['allergies'] } } });
  const drop = await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'old', assigned_data: { fields: ['employer'] } } });
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['phone'] } } });
  const res = await upload(
    s.token,
    [
      'version: 1',
      'placements:',
      '  home_address: restricted',
      '  bio: semi-private',
      'custom_rings:',
      '  - name: doctors',
      '    fields: [medications, allergies]',
      '    roles: [healthcare]',
      '  - name: officials',
      '    fields: [nationality]',
      '    roles: [government]',
      '',
    ].join('\n'),
  );
  t.is(res.status, 200, res.text);
  t.like(res.body, { policy_revision: app.service.deps.policy.engine.revision, rings_version: 4, capped: [] });
  const rings = await storedRings(app, s.profile_id);
  t.is(rings.home_address, 'restricted');
  t.is(rings.bio, 'semi-private');
  t.is(rings.phone, 'private', 'placed nowhere: back to its default ring');
  t.is(rings.employer, 'semi-private', 'its ring was dropped: back to its default ring');
  t.is(rings.allergies, `custom:${keep.body.ring_id}`, 'the ring kept its id');
  t.is(rings.medications, `custom:${keep.body.ring_id}`);
  t.is(await app.service.deps.db('rings').where({ id: drop.body.ring_id }).first(), undefined);
  const officials = await app.service.deps.db('rings').where({ user_id: s.user_id, name: 'officials' }).first();
  t.is(rings.nationality, `custom:${officials.id}`);
});

test('an upload that asks more than a ceiling allows is applied and says what is capped', async (t) => {
  const s = await register(app);
  const res = await upload(
    s.token,
    'version: 1\nplacements:\n  home_address: public\ncustom_rings:\n  - name: shops\n    fields: [email]\n    roles: [commercial]\n',
  );
  t.is(res.status, 200, res.text);
  t.deepEqual(
    res.body.capped.map((c: { reader: string; field: string }) => `${c.reader} ${c.field}`),
    ['role:commercial email', 'role:commercial home_address'],
  );
});

test.serial('a bad file is refused with the line of each problem, and nothing changes', async (t) => {
  const s = await register(app);
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['phone'] } } });
  const before = await countRows(app, ['rings', 'ring_settings', 'profile_fields', 'audit_events']);

  let res = await upload(s.token, 'version: 1\nplacements:\n  home_address: [public\n');
  assertError(t, res, 400, 'validation_failed', /YAML syntax/);
  t.regex(res.body.details[0].path, /^line \d+$/);

  res = await upload(s.token, 'version: 1\nplacements:\n  home_address: public\ncolour: blue\n');
  assertError(t, res, 400, 'validation_failed');
  t.deepEqual(res.body.details, [{ path: 'line 4', message: 'colour: colour is not a known key here' }]);

  res = await upload(s.token, 'version: 1\nplacements:\n  bio: public\n  home_address: secret\n');
  t.deepEqual(res.body.details, [
    {
      path: 'line 4',
      message:
        'home_address: secret is not a default ring (public, semi-private, private, restricted); put it in a custom ring under custom_rings instead',
    },
  ]);

  res = await upload(s.token, 'version: 1\ncustom_rings:\n  - name: a\n    fields: [bio]\n    services:\n      - svc_nobody\n');
  t.deepEqual(res.body.details, [{ path: 'line 6', message: 'no service with client_id svc_nobody' }]);

  res = await upload(s.token, 'version: 1\ncustom_rings:\n  - name: a\n    fields: [bio]\n  - name: b\n    fields: [bio]\n');
  t.deepEqual(res.body.details, [{ path: 'line 6', message: 'bio is already placed in custom ring a: a field sits in exactly one ring' }]);

  assertError(t, await upload(s.token, '- just\n- a list\n'), 400, 'validation_failed', /YAML mapping/);
  assertError(t, await upload(s.token, 'version: 2\n'), 400, 'validation_failed', /version: must be 1/);
  assertError(t, await upload(s.token, '{"version": 1}', 'application/json'), 415);
  assertError(t, await app.request('PUT', POLICY, { raw: { body: 'version: 1\n', type: 'application/yaml' } }), 401, 'token_missing');
  t.deepEqual(await countRows(app, ['rings', 'ring_settings', 'profile_fields', 'audit_events']), before);
});

test('services in an uploaded ring must be registered, and are then admitted', async (t) => {
  const s = await register(app);
  const clinic = (await addService(app, 'healthcare')).service.client_id;
  const res = await upload(s.token, `version: 1\ncustom_rings:\n  - name: clinic\n    fields: [allergies]\n    services: [${clinic}]\n`);
  t.is(res.status, 200, res.text);
  const listed = await app.request('GET', RINGS, { token: s.token });
  t.deepEqual(listed.body.rings.find((r: { name: string }) => r.name === 'clinic').admits, { roles: [], services: [clinic] });
});

test.serial('a 65 KB file of thousands of problems answers a small 400 that counts the ones left out', async (t) => {
  const s = await register(app);
  const before = await countRows(app, ['rings', 'ring_settings', 'audit_events']);
  for (const text of [unknownKeys(65_000), unknownRoles(65_000), unknownKeys(27_000)]) {
    t.true(text.length > 26_000 && text.length <= 65_536);
    const res = await upload(s.token, text);
    assertError(t, res, 400, 'validation_failed', /^the ring policy is invalid: line \d+: /);
    t.true(res.text.length < 20_000, `${res.text.length} bytes answered`);
    t.true(res.body.details.length <= MAX_REPORTED_PROBLEMS + 1);
  }
  const many = await upload(s.token, unknownRoles(65_000));
  t.is(many.body.details.length, MAX_REPORTED_PROBLEMS + 1);
  t.regex(many.body.details.at(-1).message, /^\d{4} more problem\(s\) not shown: only the first 50 are reported$/);
  t.regex(many.body.status, /\(and 50 more in details\)$/);
  const huge = await upload(s.token, unknownKeys(65_000));
  t.deepEqual(huge.body.details, [{ path: 'line 1', message: 'holds more than 10000 keys, items and values: no policy file needs that many' }]);
  t.deepEqual(await countRows(app, ['rings', 'ring_settings', 'audit_events']), before);
});

test('uploads are limited per account: the next one answers 429 with Retry-After, other accounts are not affected', async (t) => {
  const s = await register(app);
  for (let i = 0; i < RING_POLICY_UPLOADS.max; i++) {
    const res = await upload(s.token, i % 2 ? 'version: 1\n' : 'version: 2\n');
    t.is(res.status, i % 2 ? 200 : 400, res.text);
  }
  const refused = await upload(s.token, 'version: 1\n');
  assertError(t, refused, 429, 'too_many_requests', /^too many ring policy uploads: wait \d+ minute\(s\) before trying again$/);
  t.true(Number(refused.headers.get('retry-after')) >= 1, String(refused.headers.get('retry-after')));
  const other = await register(app);
  t.is((await upload(other.token, 'version: 1\n')).status, 200);
});
