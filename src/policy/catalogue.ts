/**
 * The field catalogue (policies/fields.yaml) and the default rings (policies/rings.yaml): what a profile may hold,
 * how each value is checked, and where each field sits until its owner moves it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import YAML from 'yaml';

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
  /** The default ring. */
  ring: string;
  claim?: string;
  description: string;
  /** Derived fields are computed from this source field and never stored or written. */
  derivedFrom?: string;
  /** Properties of a structured field (address, contact), addressable as `<field>.<property>`. */
  properties?: Record<string, { type: FieldType }>;
  /** Allowed values of an enum field. */
  values?: string[];
}

export interface RingDef {
  name: string;
  description: string;
  /** 0 = most open. */
  rank: number;
}

export interface Catalogue {
  fields: ReadonlyMap<string, FieldDef>;
  /** Ordered from most open to most closed. */
  rings: readonly RingDef[];
}

interface FieldsFile {
  version: number;
  fields: Record<string, Omit<FieldDef, 'name' | 'derivedFrom'> & { derived_from?: string }>;
}

interface RingsFile {
  version: number;
  rings: { name: string; description: string }[];
}

export function loadCatalogue(dir: string = POLICIES_DIR): Catalogue {
  const fieldsFile = YAML.parse(readFileSync(path.join(dir, 'fields.yaml'), 'utf8')) as FieldsFile;
  const ringsFile = YAML.parse(readFileSync(path.join(dir, 'rings.yaml'), 'utf8')) as RingsFile;
  const fields = new Map<string, FieldDef>();
  for (const [name, def] of Object.entries(fieldsFile.fields)) {
    const { derived_from, ...rest } = def;
    fields.set(name, { ...rest, name, ...(derived_from ? { derivedFrom: derived_from } : {}) });
  }
  return { fields, rings: ringsFile.rings.map((r, rank) => ({ ...r, rank })) };
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
