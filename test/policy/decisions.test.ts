/** Decisions features ask the engine for: public view, status rings, ring admission, companion claims, effective rings. */
import test from 'ava';
import { PolicyEngine } from '../../src/policy/engine.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { policiesWith, policyFiles } from './fixtures.ts';

const policies = loadPolicies();

test('the public view shows whole public fields and lists a profile only while its handle is public', (t) => {
  const engine = new PolicyEngine(policies);
  const view = engine.publicView([]);
  t.deepEqual([...view.fields], ['handle', 'bio', 'website', 'avatar']);
  t.true(view.listed);
  t.deepEqual(view.statusRings, ['public']);
  const hidden = engine.publicView([
    { field: 'handle', ring: 'semi-private' },
    { field: 'bio', ring: 'custom:0b7e' },
  ]);
  t.false(hidden.listed);
  t.deepEqual([...hidden.fields], ['website', 'avatar']);
  // A field the person moves to the public ring is shown.
  t.true(engine.publicView([{ field: 'name', ring: 'public' }]).fields.has('name'));
});

test('explainPublicView gives the listing decision, what is withheld and the status rings, from the same decisions', (t) => {
  const engine = new PolicyEngine(policies);
  const view = engine.explainPublicView({ placements: { handle: 'private' }, custom: [] });
  t.false(view.listed);
  t.is(view.listing.field, 'handle');
  t.is(view.listing.verdict, 'deny');
  t.like(
    view.withheld.find((w) => w.field === 'handle'),
    { layer: 'user setting' },
  );
  t.deepEqual(view.statusRings.rings, ['public']);
  t.deepEqual(view.fields, [...engine.publicView([{ field: 'handle', ring: 'private' }]).fields]);
});

test('status rings: the owner reads every ring, others the rings within their role ceiling', (t) => {
  const engine = new PolicyEngine(policies);
  t.deepEqual(engine.explainStatusRings({ kind: 'owner' }).rings, ['public', 'semi-private', 'private', 'restricted']);
  t.deepEqual(engine.explainStatusRings({ kind: 'public' }).rings, ['public']);
  t.deepEqual(engine.explainStatusRings({ kind: 'role', role: 'commercial' }).rings, ['public', 'semi-private']);
  t.deepEqual(engine.explainStatusRings({ kind: 'role', role: 'pirate' }).rings, []);
});

test('a default ring admits the roles whose ceiling and rules reach it; restricted only through break-the-glass', (t) => {
  const engine = new PolicyEngine(policies);
  const admitted = (ring: string, how: string) =>
    engine
      .ringAdmission(ring)
      .filter((a) => a.admitted === how)
      .map((a) => a.role);
  t.deepEqual(admitted('public', 'yes'), ['commercial', 'emergency_responder', 'government', 'healthcare', 'public']);
  t.deepEqual(admitted('semi-private', 'yes'), ['commercial', 'emergency_responder', 'government', 'healthcare']);
  t.deepEqual(admitted('private', 'yes'), ['emergency_responder', 'government', 'healthcare']);
  t.deepEqual(admitted('restricted', 'yes'), []);
  t.deepEqual(admitted('restricted', 'break-the-glass'), ['emergency_responder']);
  const glass = engine.ringAdmission('restricted').find((a) => a.role === 'emergency_responder')!;
  t.deepEqual(glass.fields, ['name', 'blood_type', 'allergies', 'medications', 'medical_conditions', 'emergency_contact']);
  t.regex(glass.source.file, /emergency_responder\.yaml$/);
  t.throws(() => engine.ringAdmission('custom:x'), { message: /not a default ring/ });
});

test('ring admission takes the rules into account, not the ceiling alone', (t) => {
  const files = policyFiles();
  // A role whose ceiling reaches private but whose rules deny everything they allow.
  const auditor = files['roles/government.yaml']
    .replace('role: government', 'role: auditor')
    .replace('  - deny: [blood_type, allergies, medications, medical_conditions, immunizations]', "  - deny: ['*']");
  const engine = new PolicyEngine(policiesWith({ 'roles/auditor.yaml': auditor }));
  for (const ring of ['public', 'semi-private', 'private']) {
    const a = engine.ringAdmission(ring).find((r) => r.role === 'auditor')!;
    t.is(a.admitted, 'no', ring);
    t.regex(a.reason, /no field its rules allow/);
  }
  t.is(engine.ringAdmission('private').find((r) => r.role === 'government')!.admitted, 'yes');
});

test('email_verified goes out with a released email and never without it', (t) => {
  const engine = new PolicyEngine(policies);
  t.deepEqual(engine.companionsOf({ email: 'ada@example.org' }), ['email_verified']);
  t.deepEqual(engine.companionClaims({ email: 'ada@example.org', name: 'Ada' }, { emailVerified: true }), { email_verified: true });
  t.deepEqual(engine.companionClaims({ name: 'Ada' }, { emailVerified: true }), {});
  t.deepEqual(engine.companionClaims({ email: null }, { emailVerified: true }), {});
  const explained = engine.explainCompanion({ kind: 'role', role: 'commercial' }, 'email_verified');
  t.like(explained, { claim: 'email', field: 'email' });
  t.is(explained.explanation.verdict, 'deny');
  t.is(engine.explainCompanion({ kind: 'role', role: 'government' }, 'email_verified').explanation.verdict, 'allow');
  t.throws(() => engine.explainCompanion({ kind: 'public' }, 'shoe_size'), { message: /not a catalogued field/ });
});

test('the effective ring of every field: the stored ring when there is one, else the default ring', (t) => {
  const engine = new PolicyEngine(policies);
  const rings = engine.effectiveRings([
    { field: 'home_address', ring: 'restricted' },
    { field: 'allergies', ring: 'custom:4f1c' },
    { field: 'shoe_size', ring: 'public' },
  ]);
  t.deepEqual([...rings.keys()], [...policies.fields.keys()]);
  t.is(rings.get('home_address'), 'restricted');
  t.is(rings.get('allergies'), 'custom:4f1c');
  t.is(rings.get('name'), 'semi-private');
  t.false(rings.has('shoe_size'));
});
