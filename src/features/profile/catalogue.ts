/** The field catalogue of policies/, loaded once for the profile and account flows. */
import { loadCatalogue, type Catalogue } from '../../policy/catalogue.ts';

let catalogue: Catalogue | undefined;

/** The catalogue of policies/fields.yaml and rings.yaml, read once. */
export function fieldCatalogue(): Catalogue {
  catalogue ??= loadCatalogue();
  return catalogue;
}

/** Fields every profile keeps from registration on: they can be changed, never removed. */
export const REQUIRED_FIELDS: ReadonlySet<string> = new Set(['name', 'email', 'handle']);
