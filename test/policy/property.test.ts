import test from 'ava';
import fc from 'fast-check';
import { PolicyEngine, type Grant, type Reader, type UserRings } from '../../src/policy/engine.ts';
import { loadPolicies } from '../../src/policy/load.ts';

const policies = loadPolicies();
const fields = [...policies.fields.keys()];
const rings = policies.rings.map((r) => r.name);
const roles = [...policies.roles.keys()];
const serviceRoles = roles.filter((r) => r !== 'public');
const clients = ['svc-a', 'svc-b', 'svc-c'];
const scopes = [...policies.scopes.keys(), ...rings.map((r) => `ring:${r}`), 'nonsense'];

const customRing = fc.record({
  id: fc.constantFrom('r1', 'r2', 'r3', 'r4'),
  name: fc.string({ minLength: 1, maxLength: 8 }),
  fields: fc.uniqueArray(fc.constantFrom(...fields), { maxLength: 10 }),
  roles: fc.uniqueArray(fc.constantFrom(...serviceRoles), { maxLength: 3 }),
  services: fc.uniqueArray(fc.constantFrom(...clients), { maxLength: 2 }),
});

const userRings: fc.Arbitrary<UserRings> = fc
  .record({
    placements: fc.dictionary(
      fc.constantFrom(...fields),
      fc.oneof(fc.constantFrom(...rings), fc.constantFrom('custom:r1', 'custom:r2', 'custom:zz', 'nowhere')),
    ),
    custom: fc.array(customRing, { maxLength: 4 }),
  })
  .map((r) => ({ placements: r.placements, custom: r.custom }));

const reader: fc.Arbitrary<Reader> = fc.oneof(
  fc.constant<Reader>({ kind: 'public' }),
  fc.constantFrom(...roles).map((role): Reader => ({ kind: 'role', role })),
  fc.record({ clientId: fc.constantFrom(...clients), role: fc.constantFrom(...serviceRoles) }).map((s): Reader => ({ kind: 'service', ...s })),
);

const grant: fc.Arbitrary<Grant | undefined> = fc.option(
  fc.record({ scopes: fc.uniqueArray(fc.constantFrom(...scopes), { maxLength: 6 }), breakTheGlass: fc.boolean() }),
  { nil: undefined },
);

/** The role's ceiling for a leaf, read straight from the policy files, not from the engine. */
function ceilingRank(role: string, leaf: string, g: Grant | undefined): number {
  const def = policies.roles.get(role)!;
  if (g?.breakTheGlass && def.breakTheGlass?.leaves.has(leaf)) return def.breakTheGlass.ceilingRank;
  return def.ceilingRank;
}

function roleOf(r: Reader): string {
  return r.kind === 'public' ? 'public' : (r as { role: string }).role;
}

test('no ring settings or grant ever let a role see a field outside its ceiling or its rules, nor the public one outside the public ring', (t) => {
  const engine = new PolicyEngine(policies, { maxEntries: 500 });
  fc.assert(
    fc.property(reader, userRings, grant, (r, settings, g) => {
      const decision = engine.decide(r, settings, g);
      const role = policies.roles.get(roleOf(r))!;
      for (const leaf of decision.leaves) {
        const field = policies.fields.get(policies.leafField.get(leaf)!)!;
        if (r.kind === 'public') {
          // The public reads exactly what the owner placed in the public ring.
          const placed = settings.custom.some((c) => c.fields.includes(field.name)) ? 'custom' : (settings.placements[field.name] ?? field.ring);
          if (placed !== 'public') return false;
        } else if (field.classification > ceilingRank(role.name, leaf, g)) return false;
        if (role.rules.some((rule) => rule.effect === 'deny' && rule.leaves.has(leaf))) return false;
        if (!role.rules.some((rule) => rule.effect === 'allow' && rule.leaves.has(leaf))) return false;
        if (
          !(g?.breakTheGlass && role.breakTheGlass?.leaves.has(leaf)) &&
          settings.placements[field.name] === 'restricted' &&
          !settings.custom.some((c) => c.fields.includes(field.name))
        )
          return false;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('no ring settings or grant let a role reach further than it does with default rings (without break-the-glass)', (t) => {
  const engine = new PolicyEngine(policies, { maxEntries: 500 });
  const reach = new Map(roles.map((role) => [role, engine.decide({ kind: 'role', role }).leaves]));
  fc.assert(
    fc.property(reader, userRings, grant, (r, settings, g) => {
      // The public is the exception by design: placing a field in the public ring publishes it.
      if (g?.breakTheGlass || r.kind === 'public') return true;
      const within = reach.get(roleOf(r))!;
      return [...engine.decide(r, settings, g).leaves].every((leaf) => within.has(leaf));
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('the owner always sees everything', (t) => {
  const engine = new PolicyEngine(policies);
  fc.assert(
    fc.property(userRings, grant, (settings, g) => engine.decide({ kind: 'owner' }, settings, g).leaves.size === policies.leaves.length),
    { numRuns: 500 },
  );
  t.pass();
});

test('the ability, the decision and explain agree on every field', (t) => {
  const engine = new PolicyEngine(policies, { maxEntries: 500 });
  fc.assert(
    fc.property(reader, userRings, grant, fc.constantFrom(...fields), (r, settings, g, field) => {
      const compiled = engine.abilityFor(r, settings, g);
      const explanation = engine.explain(r, field, settings, g); // throws if its gates disagree with the ability
      return explanation.leaves.every(
        (l) => l.allowed === compiled.decision.leaves.has(l.leaf) && l.allowed === compiled.ability.can('read', 'Profile', l.leaf),
      );
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
