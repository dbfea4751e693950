import test from 'ava';
import { createMongoAbility } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import { NO_USER_RINGS, parseReader, PolicyEngine, UnknownField, type UserRings } from '../../src/policy/engine.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { parseUserRingsFile, userRingsToYaml } from '../../src/policy/user-rings.ts';
import { PolicyError } from '../../src/policy/problems.ts';
import { policiesWith, policyFiles } from './fixtures.ts';

const policies = loadPolicies();
const files = policyFiles();
const commercial = { kind: 'role', role: 'commercial' } as const;
const government = { kind: 'role', role: 'government' } as const;

test('the owner reads every field, restricted ones included, whatever the settings', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = {
    placements: { passport_number: 'restricted', home_address: 'restricted' },
    custom: [{ name: 'none', fields: ['name'], roles: [], services: [] }],
  };
  t.deepEqual(engine.readableFields({ kind: 'owner' }, rings), [...policies.fields.keys()]);
});

test('the public reads only public fields in the public ring', (t) => {
  const engine = new PolicyEngine(policies);
  t.deepEqual(engine.readableFields({ kind: 'public' }), ['handle', 'bio', 'website', 'avatar']);
  t.deepEqual(engine.readableFields({ kind: 'public' }, { placements: { bio: 'private' }, custom: [] }), ['handle', 'website', 'avatar']);
});

test('a role sees nothing above its ceiling, even when the person moves the field to public', (t) => {
  const engine = new PolicyEngine(policies);
  const moved: UserRings = { placements: { home_address: 'public', email: 'public' }, custom: [] };
  const fields = engine.readableFields(commercial, moved);
  t.false(fields.includes('home_address'));
  t.false(fields.includes('email'));
  t.true(engine.readableFields(government, moved).includes('home_address'));
});

test('restricted hides a field from every reader but the owner at once', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = { placements: { home_address: 'restricted' }, custom: [] };
  for (const reader of [{ kind: 'public' } as const, ...[...policies.roles.keys()].map((role) => ({ kind: 'role', role }) as const)]) {
    t.false(engine.decide(reader, rings).can('home_address'), `${reader.kind} ${'role' in reader ? reader.role : ''}`);
    t.false(engine.decide(reader, rings).can('home_address.locality'));
  }
  t.true(engine.decide({ kind: 'owner' }, rings).can('home_address'));
});

test('a service reads only what its granted scopes cover; without a grant, nothing', (t) => {
  const engine = new PolicyEngine(policies);
  const shop = { kind: 'service', clientId: 'shop-1', role: 'commercial' } as const;
  t.deepEqual(engine.readableFields(shop), []);
  t.deepEqual(engine.readableFields(shop, NO_USER_RINGS, { scopes: ['openid', 'email'] }), []);
  t.deepEqual(engine.readableFields(shop, NO_USER_RINGS, { scopes: ['age'] }), ['age', 'age_over_18']);
  t.deepEqual(engine.readableFields(shop, NO_USER_RINGS, { scopes: ['unknown-scope', 'ring:restricted'] }), []);
});

test('deny wins over allow, over custom rings and over scopes', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = { placements: {}, custom: [{ name: 'gov', fields: ['blood_type'], roles: ['government'], services: ['tax'] }] };
  const tax = { kind: 'service', clientId: 'tax', role: 'government' } as const;
  const decision = engine.decide(tax, rings, { scopes: ['health', 'ring:private'] });
  t.false(decision.can('blood_type'));
  t.is(engine.explain(tax, 'blood_type', rings, { scopes: ['health'] }).leaves[0].decidedBy, 'deny:1');
});

test('a deny on a pattern never leaks a matching property, where CASL alone would', (t) => {
  // A role allowing the whole address but denying every property of it through a pattern.
  const role = [
    'version: 1',
    'role: government',
    'description: test',
    'owner: test',
    'ceiling: private',
    'rules:',
    '  - allow: [home_address, name, phone]',
    "  - deny: ['home_address.*', '*.phone']",
    '',
  ].join('\n');
  const engine = new PolicyEngine(policiesWith({ 'roles/government.yaml': role }));
  const decision = engine.decide(government);
  t.deepEqual(decision.fields, ['name', 'phone']);
  t.false(decision.can('home_address.locality'));
  t.false(decision.can('home_address'));
  // `*.phone` matches the emergency contact's phone property, not the top-level phone field.
  t.true(decision.can('phone'));

  // The same rules written with the pattern straight into CASL: permittedFieldsOf keeps the properties.
  const leaves = policies.fields.get('home_address')!.leaves as string[];
  const naive = createMongoAbility([
    { action: 'read', subject: 'Profile', fields: leaves },
    { action: 'read', subject: 'Profile', fields: ['home_address.*'], inverted: true },
  ]);
  t.deepEqual(
    permittedFieldsOf(naive, 'read', 'Profile', { fieldsFrom: (r) => r.fields ?? leaves }),
    leaves,
    'CASL leaks: why patterns are expanded first',
  );
});

test('a deny on one property leaves the rest of a structured field, and project() releases only that part', (t) => {
  const role = files['roles/government.yaml'].replace(
    '  - deny: [blood_type',
    '  - deny: [home_address.street_address]\n    reason: test\n  - deny: [blood_type',
  );
  const engine = new PolicyEngine(policiesWith({ 'roles/government.yaml': role }));
  const decision = engine.decide(government);
  t.true(decision.fields.includes('home_address.locality'));
  t.false(decision.fields.includes('home_address'));
  t.false(decision.can('home_address'));
  const address = { street_address: '4024 Main St', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1A1', country: 'CA' };
  const out = decision.project({ home_address: address, blood_type: 'O+', name: 'Ada', not_catalogued: 'x' });
  t.deepEqual(out, { home_address: { locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1A1', country: 'CA' }, name: 'Ada' });
});

test('a custom ring admits exactly its roles and services, clipped to their ceilings', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = {
    placements: {},
    custom: [{ id: 'r1', name: 'doctor', fields: ['allergies', 'email', 'passport_number'], roles: ['commercial'], services: ['clinic-1'] }],
  };
  const clinic1 = { kind: 'service', clientId: 'clinic-1', role: 'healthcare' } as const;
  const clinic2 = { kind: 'service', clientId: 'clinic-2', role: 'healthcare' } as const;
  const grant = { scopes: ['health', 'email'] };
  t.true(engine.decide(clinic1, rings, grant).can('allergies'));
  t.true(engine.decide(clinic1, rings, grant).can('email'));
  t.false(engine.decide(clinic2, rings, grant).can('allergies'));
  t.false(engine.decide(commercial, rings).can('email'), 'commercial is admitted but email is above its ceiling');
  t.false(engine.decide(clinic1, rings, { scopes: ['ring:private'] }).can('passport_number'));
  const capped = engine.capped(rings, new Map([['clinic-1', 'healthcare']]));
  t.deepEqual(
    capped.map((c) => `${c.reader} ${c.field}`),
    ['role:commercial allergies', 'role:commercial email', 'role:commercial passport_number', 'service:clinic-1 passport_number'],
  );
  t.regex(capped.find((c) => c.field === 'email')!.reason, /private is beyond commercial's ceiling semi-private/);
});

test('a field placed as custom:<id> follows that custom ring; an unknown ring hides it', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = {
    placements: { name: 'custom:abc', phone: 'custom:gone' },
    custom: [{ id: 'abc', name: 'officials', fields: [], roles: ['government'], services: [] }],
  };
  t.true(engine.decide(government, rings).can('name'));
  t.false(engine.decide({ kind: 'role', role: 'healthcare' }, rings).can('name'));
  t.false(engine.decide(government, rings).can('phone'));
  t.regex(engine.explain(government, 'phone', rings).leaves[0].layers.find((l) => l.layer === 'user setting')!.detail, /unknown ring custom:gone/);
});

test('explain shows each layer with its file and line, the deciding rule and the revision', (t) => {
  const engine = new PolicyEngine(policies);
  const e = engine.explain(commercial, 'home_address', { placements: { home_address: 'public' }, custom: [] });
  t.is(e.verdict, 'deny');
  t.is(e.revision, policies.revision);
  t.is(e.leaves.length, 5);
  const leaf = e.leaves[0];
  t.is(leaf.decidedBy, 'ceiling');
  const byLayer = Object.fromEntries(leaf.layers.map((l) => [l.layer, l]));
  t.is(byLayer.ring.detail, 'home_address is classified private (its default ring)');
  t.deepEqual(byLayer.ring.source, { file: 'policies/fields.yaml', line: files['fields.yaml'].split('\n').indexOf('  home_address:') + 1 });
  t.is(byLayer.ceiling.outcome, 'fail');
  t.deepEqual(byLayer.ceiling.source, {
    file: 'policies/roles/commercial.yaml',
    line: files['roles/commercial.yaml'].split('\n').indexOf('ceiling: semi-private') + 1,
  });
  t.is(byLayer['user setting'].detail, 'the person moved home_address to public, within the ceiling semi-private');
  t.is(byLayer.rules.outcome, 'pass');
  t.regex(byLayer.verdict.detail, new RegExp(`DENY .*revision ${policies.revision}`));

  const allowed = engine.explain({ kind: 'service', clientId: 'clinic', role: 'healthcare' }, 'blood_type', NO_USER_RINGS, { scopes: ['health'] });
  t.is(allowed.verdict, 'allow');
  t.is(allowed.leaves[0].decidedBy, 'allow:0');
  t.regex(allowed.leaves[0].layers.find((l) => l.layer === 'scope')!.detail, /granted scope health covers it/);
  t.throws(() => engine.explain(commercial, 'shoe_size'), { instanceOf: UnknownField });
});

test('a reader of an undefined role sees nothing and explain says why', (t) => {
  const engine = new PolicyEngine(policies);
  const ghost = { kind: 'service', clientId: 'x', role: 'insurer' } as const;
  t.deepEqual(engine.readableFields(ghost, NO_USER_RINGS, { scopes: ['profile'] }), []);
  t.regex(engine.explain(ghost, 'name').leaves[0].layers[0].detail, /role insurer is not defined/);
});

test('abilities are cached per rings version and grant, and invalidated when either changes', (t) => {
  const engine = new PolicyEngine(policies);
  const v1: UserRings = { userId: 'u1', version: 1, placements: {}, custom: [] };
  const a = engine.abilityFor(government, v1);
  t.is(engine.abilityFor(government, v1), a, 'same key: same ability');
  t.is(engine.abilityFor(government, { ...v1 }), a, 'same user and version: cached even for a new object');
  t.deepEqual(engine.cacheStats(), { entries: 1, hits: 2, misses: 1 });

  const v2: UserRings = { userId: 'u1', version: 2, placements: { home_address: 'restricted' }, custom: [] };
  t.not(engine.abilityFor(government, v2), a);
  t.false(engine.decide(government, v2).can('home_address'));
  t.true(engine.decide(government, v1).can('home_address'));

  const granted = engine.abilityFor(government, v1, { scopes: ['address'] });
  t.not(granted, a, 'a grant is part of the key');
  t.is(engine.abilityFor(government, v1, { scopes: ['address', 'address'] }), granted, 'scopes are a set');

  engine.invalidateUser('u1');
  t.is(engine.cacheStats().entries, 0);
  t.not(engine.abilityFor(government, v1), a, 'rebuilt after invalidation');
});

test('reloading other policies drops every cached ability and changes decisions without code changes', (t) => {
  const engine = new PolicyEngine(policies);
  t.true(engine.decide(government).can('home_address'));
  const stricter = policiesWith({ 'roles/government.yaml': files['roles/government.yaml'].replace('      - home_address\n', '') });
  engine.reload(stricter);
  t.is(engine.cacheStats().entries, 0);
  t.false(engine.decide(government).can('home_address'));
  t.is(engine.decide(government).revision, stricter.revision);
});

test('the cache keeps at most maxEntries abilities', (t) => {
  const engine = new PolicyEngine(policies, { maxEntries: 3 });
  for (let v = 0; v < 10; v++) engine.abilityFor(government, { userId: 'u', version: v, placements: {}, custom: [] });
  t.is(engine.cacheStats().entries, 3);
});

test('settings without a user id are cached by content', (t) => {
  const engine = new PolicyEngine(policies);
  const a = engine.abilityFor(government, { placements: { name: 'restricted' }, custom: [] });
  t.is(engine.abilityFor(government, { placements: { name: 'restricted' }, custom: [] }), a);
  t.not(engine.abilityFor(government, { placements: { name: 'private' }, custom: [] }), a);
});

test('visibility lists every reader with its fields and why the rest is withheld', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = { placements: { home_address: 'restricted' }, custom: [] };
  const v = engine.visibility(rings, [{ clientId: 'shop-1', role: 'commercial', grant: { scopes: ['openid', 'profile'] } }]);
  t.is(v.policy_revision, policies.revision);
  t.deepEqual(
    v.readers.map((r) => r.reader),
    ['public', 'role:commercial', 'role:emergency_responder', 'role:government', 'role:healthcare', 'service:shop-1'],
  );
  const gov = v.readers.find((r) => r.reader === 'role:government')!;
  t.deepEqual(gov.fields, engine.readableFields(government, rings));
  const why = gov.withheld.find((w) => w.field === 'home_address')!;
  t.is(why.layer, 'user setting');
  t.regex(why.reason, /moved home_address to restricted/);
  const shop = v.readers.find((r) => r.reader === 'service:shop-1')!;
  t.true(shop.withheld.some((w) => w.field === 'employer' && w.layer === 'scope'));
});

test('fieldsForScopes and claimsOf serve the OpenID provider', (t) => {
  const engine = new PolicyEngine(policies);
  t.deepEqual(engine.fieldsForScopes(['openid', 'email', 'address']), ['email', 'home_address']);
  t.deepEqual(engine.fieldsForScopes(['ring:public']), ['handle', 'bio', 'website', 'avatar']);
  const decision = engine.decide({ kind: 'service', clientId: 'tax', role: 'government' }, NO_USER_RINGS, {
    scopes: ['openid', 'profile', 'address'],
  });
  const projected = decision.project({ name: 'Ada', handle: 'ada', home_address: { locality: 'Burnaby' }, bio: 'hi' });
  t.deepEqual(engine.claimsOf(projected), { name: 'Ada', preferred_username: 'ada', address: { locality: 'Burnaby' } });
});

test('break-the-glass opens the listed fields up to its ceiling, and only for roles that have one', (t) => {
  const engine = new PolicyEngine(policies);
  const rings: UserRings = {
    placements: { allergies: 'restricted', medical_conditions: 'restricted' },
    custom: [{ name: 'me', fields: ['blood_type'], roles: [], services: [] }],
  };
  const ambulance = { kind: 'service', clientId: 'amb', role: 'emergency_responder' } as const;
  const normal = engine.decide(ambulance, rings, { scopes: ['emergency'] });
  const glass = engine.decide(ambulance, rings, { scopes: ['emergency'], breakTheGlass: true });
  t.false(normal.can('allergies'));
  t.false(normal.can('blood_type'));
  t.true(glass.can('allergies'));
  t.true(glass.can('blood_type'));
  t.true(glass.can('medical_conditions'));
  t.false(engine.decide({ kind: 'service', clientId: 'c', role: 'healthcare' }, rings, { scopes: ['health'], breakTheGlass: true }).can('allergies'));
});

test('readers parse from their text form', (t) => {
  t.deepEqual(parseReader('owner'), { kind: 'owner' });
  t.deepEqual(parseReader('role:healthcare'), { kind: 'role', role: 'healthcare' });
  t.deepEqual(parseReader('service:abc-1@commercial'), { kind: 'service', clientId: 'abc-1', role: 'commercial' });
  t.throws(() => parseReader('service:abc'));
});

test('a ring policy file round-trips through YAML and refuses bad settings with line numbers', (t) => {
  const rings: UserRings = {
    placements: { home_address: 'restricted', bio: 'public' },
    custom: [{ name: 'Doctors', fields: ['allergies'], roles: ['healthcare'], services: ['clinic-1'] }],
  };
  const text = userRingsToYaml(policies, rings, 'test');
  const back = parseUserRingsFile(policies, text, 'rings.yaml').rings;
  t.deepEqual(back.placements, { home_address: 'restricted' }, 'a field in its default ring is not written');
  t.deepEqual(back.custom, rings.custom);

  const bad = [
    'version: 1',
    'placements:',
    '  home_address.locality: public',
    '  email: secret',
    'custom_rings:',
    '  - name: public',
    '    fields: [name]',
    '  - name: x',
    '    fields: [name]',
    '    roles: [public, pirate]',
  ].join('\n');
  const err = t.throws(() => parseUserRingsFile(policies, bad, 'rings.yaml'), { instanceOf: PolicyError })!;
  t.deepEqual(
    err.problems.map((p) => `${p.line}: ${p.message}`),
    ['3: placements.home_address.locality: name "home_address.locality" must match pattern "^[a-z][a-z0-9_]{0,63}$"'],
  );
  const semantic = [
    'version: 1',
    'placements:',
    '  email: secret',
    'custom_rings:',
    '  - name: public',
    '    fields: [name]',
    '  - name: x',
    '    fields: [name, home_address]',
    '    roles: [public, pirate]',
  ].join('\n');
  const err2 = t.throws(() => parseUserRingsFile(policies, semantic, 'rings.yaml'), { instanceOf: PolicyError })!;
  t.deepEqual(
    err2.problems.map((p) => `${p.line}: ${p.message}`),
    [
      '3: email: secret is not a default ring (public, semi-private, private, restricted); put it in a custom ring under custom_rings instead',
      '5: public is a default ring: move fields there with placements',
      '8: name is already placed in custom ring public: a field sits in exactly one ring',
      '9: a custom ring cannot admit the public: move the fields to the public ring instead',
      '9: pirate is not a role (commercial, emergency_responder, government, healthcare)',
    ],
  );
});

test('a cached decision cannot be changed by a caller', (t) => {
  const engine = new PolicyEngine(policies);
  const decision = engine.decide({ kind: 'public' });
  t.throws(() => (decision.leaves as Set<string>).add('passport_number'), { message: /read-only/ });
  t.throws(() => (decision.fields as string[]).push('passport_number'));
  t.false(engine.decide({ kind: 'public' }).can('passport_number'));
});
