/**
 * Which roles a default ring admits: a role is admitted when it could read some field the ring holds — its ceiling
 * reaches the ring, its rules allow the field and the field's classification is within the ceiling — judged by
 * the same gates as every decision (gates.ts), with every field of the catalogue placed in that ring and every
 * scope granted (scopes are the grant's business, not the ring's). A role that reaches the ring only while an
 * emergency access is open is admitted through break-the-glass. Custom rings admit exactly their roles and
 * services (placements.ts customRingAdmits); what a ceiling or a rule clips from them is reported by capped.ts.
 */
import { canonicalFields } from './decision.ts';
import { compile, Evaluation } from './gates.ts';
import type { Policies, RoleDef } from './load.ts';
import type { UserRings } from './placements.ts';
import type { Source } from './problems.ts';
import type { Reader } from './reader.ts';

export interface RoleAdmission {
  role: string;
  /** `yes`: through its ceiling and rules; `break-the-glass`: only while an emergency access is open; `no`. */
  admitted: 'yes' | 'break-the-glass' | 'no';
  /** The catalogue fields (or properties) the role could read from this ring, break-the-glass ones included. */
  fields: readonly string[];
  reason: string;
  /** The role file line that decides: its ceiling, or its break-the-glass ceiling. */
  source: Source;
}

const cache = new WeakMap<Policies, Map<string, readonly RoleAdmission[]>>();

/** Every role's admission to the default ring `ring`, in the order of policies.roles; cached per policy revision. */
export function ringAdmission(policies: Policies, ring: string): readonly RoleAdmission[] {
  if (!policies.ringRank.has(ring)) throw new Error(`${ring} is not a default ring (${policies.rings.map((r) => r.name).join(', ')})`);
  let perPolicies = cache.get(policies);
  if (!perPolicies) {
    perPolicies = new Map();
    cache.set(policies, perPolicies);
  }
  const known = perPolicies.get(ring);
  if (known) return known;
  const placements: Record<string, string> = {};
  for (const name of policies.fields.keys()) placements[name] = ring;
  const everywhere: UserRings = { placements, custom: [] };
  const out = Object.freeze([...policies.roles.values()].map((role) => Object.freeze(admissionOf(policies, role, ring, everywhere))));
  perPolicies.set(ring, out);
  return out;
}

function admissionOf(policies: Policies, role: RoleDef, ring: string, everywhere: UserRings): RoleAdmission {
  const reader: Reader = role.name === 'public' ? { kind: 'public' } : { kind: 'role', role: role.name };
  const readable = compile(policies, '', reader, everywhere, undefined).decision.leaves;
  const ordinary = canonicalFields(policies, new Set(readable));
  if (ordinary.length > 0) {
    const reach = reader.kind === 'public' ? `the public reads the ${ring} ring` : `${role.name}'s ceiling ${role.ceiling} reaches ${ring}`;
    return {
      role: role.name,
      admitted: 'yes',
      fields: ordinary,
      reason: `${reach}, and its rules allow ${describeFields(ordinary)} there`,
      source: role.ceilingSource,
    };
  }
  const evaluation = new Evaluation(policies, reader, everywhere, undefined);
  const reaches = policies.leaves.some((leaf) => evaluation.placementAdmits(leaf));
  if (role.breakTheGlass && reader.kind === 'role') {
    const glass = compile(policies, '', reader, everywhere, { scopes: [], breakTheGlass: true }, true).decision.leaves;
    const fields = canonicalFields(policies, new Set(glass));
    if (fields.length > 0) {
      return {
        role: role.name,
        admitted: 'break-the-glass',
        fields,
        reason: `only while an emergency access is open: ${role.name}'s break-the-glass ceiling ${role.breakTheGlass.ceiling} reaches ${ring} for ${describeFields(fields)}`,
        source: role.breakTheGlass.source,
      };
    }
  }
  return {
    role: role.name,
    admitted: 'no',
    fields: [],
    reason: reaches
      ? `${role.name}'s ceiling ${role.ceiling} reaches ${ring}, but no field its rules allow is classified within that ceiling`
      : `${ring} is beyond ${role.name}'s ceiling ${role.ceiling}`,
    source: role.ceilingSource,
  };
}

function describeFields(fields: readonly string[]): string {
  const shown = fields.slice(0, 6).join(', ');
  return fields.length > 6 ? `${shown} and ${fields.length - 6} more` : shown;
}
