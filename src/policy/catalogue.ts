/**
 * The field catalogue (policies/fields.yaml) and the default rings (policies/rings.yaml): what a profile may hold,
 * how each value is checked, and where each field sits until its owner moves it. Both files are checked against
 * their JSON Schema and for consistency; a bad file throws a PolicyError naming file, line and reason.
 */
import { fileURLToPath } from 'node:url';
import { PolicyError, type PolicyProblem, type Source } from './problems.ts';
import { openChecked, PolicySchemas, SCHEMA } from './schemas.ts';
import { fsPolicySet, type PolicySet } from './sources.ts';

export const POLICIES_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));

export type FieldType =
  | 'string'
  | 'text'
  | 'handle'
  | 'email'
  | 'phone'
  | 'url'
  | 'image'
  | 'locale'
  | 'date'
  | 'integer'
  | 'boolean'
  | 'address'
  | 'contact'
  | 'country'
  | 'enum'
  | 'list';

export interface FieldDef {
  name: string;
  type: FieldType;
  /** The default ring; also the field's classification, which a role's ceiling must reach. */
  ring: string;
  claim?: string;
  description: string;
  /** Derived fields are computed from this source field and never stored or written. */
  derivedFrom?: string;
  /** Properties of a structured field (address, contact), addressable as `<field>.<property>`. */
  properties?: Record<string, { type: FieldType; description?: string }>;
  /** Allowed values of an enum field. */
  values?: string[];
  /** Where the field is defined in fields.yaml. */
  source?: Source;
}

export interface RingDef {
  name: string;
  description: string;
  /** 0 = most open. */
  rank: number;
  source?: Source;
}

export interface Catalogue {
  fields: ReadonlyMap<string, FieldDef>;
  /** Ordered from most open to most closed. */
  rings: readonly RingDef[];
}

interface FieldsFile {
  version: number;
  fields: Record<string, Omit<FieldDef, 'name' | 'derivedFrom' | 'source'> & { derived_from?: string }>;
}

interface RingsFile {
  version: number;
  rings: { name: string; description: string }[];
}

/** Parses, schema-checks and cross-checks fields.yaml and rings.yaml of a policy set. */
export function readCatalogue(set: PolicySet, schemas: PolicySchemas): { catalogue?: Catalogue; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  const ringsYaml = openChecked(set, schemas, 'rings.yaml', SCHEMA.rings, problems);
  const fieldsYaml = openChecked(set, schemas, 'fields.yaml', SCHEMA.fields, problems);
  if (!ringsYaml || !fieldsYaml) return { problems };

  const ringsFile = ringsYaml.data as RingsFile;
  const rings: RingDef[] = [];
  const ringNames = new Set<string>();
  ringsFile.rings.forEach((r, rank) => {
    if (ringNames.has(r.name)) problems.push(ringsYaml.problem(['rings', rank, 'name'], `ring ${r.name} is defined twice`));
    ringNames.add(r.name);
    rings.push({ ...r, rank, source: ringsYaml.source(['rings', rank]) });
  });
  // The engine gives these two rings their meaning: anyone, and the owner alone.
  if (rings[0]?.name !== 'public') problems.push(ringsYaml.problem(['rings', 0, 'name'], 'the first (most open) ring must be public'));
  if (rings.at(-1)?.name !== 'restricted') {
    problems.push(ringsYaml.problem(['rings', rings.length - 1, 'name'], 'the last (most closed) ring must be restricted'));
  }

  const fieldsFile = fieldsYaml.data as FieldsFile;
  const fields = new Map<string, FieldDef>();
  const claims = new Map<string, string>();
  for (const [name, def] of Object.entries(fieldsFile.fields)) {
    const { derived_from, ...rest } = def;
    if (!ringNames.has(def.ring)) {
      problems.push(
        fieldsYaml.problem(['fields', name, 'ring'], `field ${name}: ring ${def.ring} is not defined in rings.yaml (${[...ringNames].join(', ')})`),
      );
    }
    if (def.claim) {
      const other = claims.get(def.claim);
      if (other) problems.push(fieldsYaml.problem(['fields', name, 'claim'], `field ${name}: claim ${def.claim} is already released by ${other}`));
      claims.set(def.claim, name);
    }
    fields.set(name, {
      ...rest,
      name,
      ...(derived_from ? { derivedFrom: derived_from } : {}),
      source: fieldsYaml.source(['fields', name], { key: true }),
    });
  }
  for (const def of fields.values()) {
    if (!def.derivedFrom) continue;
    const from = fields.get(def.derivedFrom);
    const at = ['fields', def.name, 'derived_from'];
    if (!from) problems.push(fieldsYaml.problem(at, `field ${def.name}: derived_from ${def.derivedFrom} is not a catalogued field`));
    else if (from.derivedFrom) problems.push(fieldsYaml.problem(at, `field ${def.name}: derived_from ${def.derivedFrom} is itself derived`));
    else if (from.name === def.name) problems.push(fieldsYaml.problem(at, `field ${def.name} cannot be derived from itself`));
  }
  if (problems.length > 0) return { problems };
  return { catalogue: { fields, rings }, problems };
}

/** Loads and checks the catalogue; throws a PolicyError (file, line, reason) when a file is bad. */
export function loadCatalogue(dir: string = POLICIES_DIR): Catalogue {
  const set = fsPolicySet(dir);
  const { schemas, problems } = PolicySchemas.fromSet(set);
  if (!schemas) throw new PolicyError(problems);
  const result = readCatalogue(set, schemas);
  if (!result.catalogue) throw new PolicyError(result.problems);
  return result.catalogue;
}

/** Every addressable field path: each field, and `<field>.<property>` for structured ones. */
export function fieldPaths(catalogue: Catalogue): string[] {
  const paths: string[] = [];
  for (const def of catalogue.fields.values()) {
    paths.push(def.name);
    for (const prop of Object.keys(def.properties ?? {})) paths.push(`${def.name}.${prop}`);
  }
  return paths;
}

/** The paths decisions are made on: a structured field's properties, or the field itself. */
export function leafPaths(def: FieldDef): string[] {
  const props = Object.keys(def.properties ?? {});
  return props.length > 0 ? props.map((p) => `${def.name}.${p}`) : [def.name];
}
