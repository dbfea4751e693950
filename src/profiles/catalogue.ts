/** The field catalogue the profile and account flows check values against: the one the service loaded at start. */
import type { Catalogue } from '../policy/catalogue.ts';
import type { Policies } from '../policy/load.ts';

/** The catalogue of policies/fields.yaml and rings.yaml, as loaded (and validated) with the rest of policies/. */
export function fieldCatalogue(deps: { policy: { policies: Policies } }): Catalogue {
  return deps.policy.policies.catalogue;
}

/** Fields every profile keeps from registration on: they can be changed, never removed. */
export const REQUIRED_FIELDS: ReadonlySet<string> = new Set(['name', 'email', 'handle']);
