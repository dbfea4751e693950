import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { addService } from '../helpers/oidc.ts';
import { addGrant, RINGS } from './fixtures.ts';

const app = useTestApp();

const VISIBILITY = '/api/v1/profile/visibility';
type Reader = { reader: string; fields: string[]; withheld: { field: string; layer: string; reason: string }[] };

test('every role and every granted service, with what it sees now and why not the rest', async (t) => {
  const s = await register(app);
  const shop = (await addService(app, 'commercial')).service.client_id;
  await addGrant(app, s.user_id, shop, ['openid', 'profile']);
  const res = await app.request('GET', VISIBILITY, { token: s.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.policy_revision, app.service.deps.policy.engine.revision);
  t.deepEqual(
    res.body.readers.map((r: Reader) => r.reader),
    ['public', 'role:commercial', 'role:emergency_responder', 'role:government', 'role:healthcare', `service:${shop}`],
  );
  const byReader = Object.fromEntries(res.body.readers.map((r: Reader) => [r.reader, r]));
  t.deepEqual(byReader.public.fields, ['handle', 'bio', 'website', 'avatar']);
  t.deepEqual(byReader[`service:${shop}`].fields, ['name', 'given_name', 'family_name', 'handle', 'bio', 'website', 'avatar', 'locale']);
  t.like(
    byReader[`service:${shop}`].withheld.find((w: { field: string }) => w.field === 'employer'),
    { layer: 'scope', reason: 'granted scopes (openid profile) do not cover it' },
  );
  t.like(
    byReader['role:commercial'].withheld.find((w: { field: string }) => w.field === 'email'),
    { layer: 'ceiling' },
  );
  // The same engine decides: the answer equals the engine's own for the same settings.
  const { engine } = app.service.deps.policy;
  t.deepEqual(byReader['role:government'].fields, engine.readableFields({ kind: 'role', role: 'government' }));
});

test('ring changes show at once: restricted hides a field from every reader', async (t) => {
  const s = await register(app);
  const before = await app.request('GET', VISIBILITY, { token: s.token });
  t.true(before.body.readers.find((r: Reader) => r.reader === 'role:government').fields.includes('home_address'));
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['home_address'] } } });
  const after = await app.request('GET', VISIBILITY, { token: s.token });
  t.is(after.body.rings_version, 1);
  for (const reader of after.body.readers as Reader[]) {
    t.false(reader.fields.includes('home_address'), reader.reader);
  }
  const why = (after.body.readers as Reader[]).find((r) => r.reader === 'role:government')!.withheld.find((w) => w.field === 'home_address')!;
  t.is(why.layer, 'user setting');
  t.regex(why.reason, /moved home_address to restricted, which only the owner \(and break-the-glass\) reaches/);
});

test('a custom ring admitting one service shows its fields to that service and no other of its role', async (t) => {
  const s = await register(app);
  const clinic1 = (await addService(app, 'healthcare', { name: 'clinic one' })).service.client_id;
  const clinic2 = (await addService(app, 'healthcare', { name: 'clinic two' })).service.client_id;
  await addGrant(app, s.user_id, clinic1, ['openid', 'health']);
  await addGrant(app, s.user_id, clinic2, ['openid', 'health']);
  await app.request('POST', RINGS, {
    token: s.token,
    json: { ring_name: 'my doctor', assigned_data: { fields: ['allergies'], services: [clinic1] } },
  });
  const res = await app.request('GET', VISIBILITY, { token: s.token });
  const byReader = Object.fromEntries(res.body.readers.map((r: Reader) => [r.reader, r]));
  t.true(byReader[`service:${clinic1}`].fields.includes('allergies'));
  t.false(byReader[`service:${clinic2}`].fields.includes('allergies'));
  t.false(byReader['role:healthcare'].fields.includes('allergies'));
  t.regex(
    byReader[`service:${clinic2}`].withheld.find((w: { field: string }) => w.field === 'allergies').reason,
    /custom ring "my doctor", which admits service:.+, not service:/,
  );
});

test("visibility is the owner's only", async (t) => {
  assertError(t, await app.request('GET', VISIBILITY), 401, 'token_missing', 'token must exist!');
  assertError(t, await app.request('GET', VISIBILITY, { token: 'forged' }), 401);
});
