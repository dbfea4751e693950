/**
 * The JSON Schemas of policies/schema/: compiled once, and their errors turned into problems a reviewer can act on,
 * each on the line of the offending value.
 */
import { createHash } from 'node:crypto';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ProblemList, type PolicyProblem } from './problems.ts';
import type { PolicySet } from './sources.ts';
import { parseYaml, type PathSegment, type YamlFile } from './yaml.ts';

// ajv-formats is CommonJS with a default export; under ESM the function sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
) => Ajv2020;

const compiledSchemas = new Map<string, PolicySchemas>();

/** The JSON Schemas of policies/schema/, compiled once per distinct content. */
export class PolicySchemas {
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(schemas: readonly object[]) {
    this.#ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, verbose: true, allowUnionTypes: true });
    addFormats(this.#ajv);
    for (const s of schemas) this.#ajv.addSchema(s);
  }

  /** Reads every `schema/*.json` of a policy set; a schema that does not parse or compile is a problem too. */
  static fromSet(set: PolicySet): { schemas?: PolicySchemas; problems: PolicyProblem[] } {
    const problems: PolicyProblem[] = [];
    const docs: object[] = [];
    for (const name of set.list('schema').filter((f) => f.endsWith('.json'))) {
      const rel = `schema/${name}`;
      try {
        docs.push(JSON.parse(set.read(rel) ?? '') as object);
      } catch (err) {
        problems.push({ file: set.label(rel), message: `not valid JSON: ${(err as Error).message}` });
      }
    }
    if (problems.length > 0) return { problems };
    // Compiling is the slow part of loading; identical schema files compile to identical validators.
    const key = createHash('sha256').update(JSON.stringify(docs)).digest('hex');
    const known = compiledSchemas.get(key);
    if (known) return { schemas: known, problems };
    try {
      const schemas = new PolicySchemas(docs);
      for (const id of SCHEMA_IDS) schemas.validator(id);
      compiledSchemas.set(key, schemas);
      return { schemas, problems };
    } catch (err) {
      return { problems: [{ file: set.label('schema'), message: `schemas do not compile: ${(err as Error).message}` }] };
    }
  }

  validator(id: string): ValidateFunction {
    let v = this.#compiled.get(id);
    if (!v) {
      v = this.#ajv.getSchema(id);
      if (!v) throw new Error(`no schema ${id} in policies/schema/`);
      this.#compiled.set(id, v);
    }
    return v;
  }

  /**
   * Validates parsed data; each problem names the line of the offending value (or key). Only the first
   * MAX_REPORTED_PROBLEMS are looked up and described, the rest counted.
   */
  check(id: string, yaml: YamlFile): PolicyProblem[] {
    const validate = this.validator(id);
    if (validate(yaml.data)) return [];
    const problems = new ProblemList();
    for (const d of describeErrors(validate.errors ?? [])) problems.add(() => yaml.problem(d.at, d.message, { key: d.key }));
    return problems.list();
  }
}

export const SCHEMA = {
  fields: 'urn:ringfence:policy:fields',
  rings: 'urn:ringfence:policy:rings',
  role: 'urn:ringfence:policy:role',
  scopes: 'urn:ringfence:policy:scopes',
  userRings: 'urn:ringfence:policy:user-rings',
  tests: 'urn:ringfence:policy:tests',
} as const;
const SCHEMA_IDS = Object.values(SCHEMA);

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function dotted(at: readonly PathSegment[]): string {
  return (
    at
      .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
      .join('')
      .replace(/^\./, '') || '(document)'
  );
}

/** Whether `pointer` or one of its ancestors is in `at`: a walk up its segments, not a scan of the set. */
function insideOneOf(at: ReadonlySet<string>, pointer: string): boolean {
  for (let end = pointer.length; end >= 0; end = pointer.lastIndexOf('/', end - 1)) {
    if (at.has(pointer.slice(0, end))) return true;
    if (end === 0) break;
  }
  return false;
}

/** Ajv errors as messages a reviewer can act on, without the noise of the schema's composition. */
function describeErrors(errors: readonly ErrorObject[]): { at: PathSegment[]; key: boolean; message: string }[] {
  const out: { at: PathSegment[]; key: boolean; message: string }[] = [];
  const seen = new Set<string>();
  // Errors raised inside a oneOf branch repeat what the oneOf itself reports.
  const oneOfAt = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    if (e.schemaPath.includes('/oneOf/') && insideOneOf(oneOfAt, e.instancePath)) continue;
    let at = pointerToPath(e.instancePath);
    let key = false;
    let message = e.message ?? 'is invalid';
    const name = (e as ErrorObject & { propertyName?: string }).propertyName;
    if (name !== undefined) {
      at = [...at, name];
      key = true;
      message = `name "${name}" ${message}`;
    } else if (e.keyword === 'required') {
      message = `${(e.params as { missingProperty: string }).missingProperty} is required`;
    } else if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      at = [...at, extra];
      key = true;
      message = `${extra} is not a known key here`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    } else if (e.keyword === 'oneOf') {
      const branches = (e.schema as { required?: string[] }[] | undefined) ?? [];
      const keys = branches.map((b) => (b.required?.length === 1 ? b.required[0] : undefined));
      message = keys.every(Boolean) ? `must have exactly one of ${keys.join(', ')}` : 'does not match any of the allowed forms';
    } else if (e.keyword === 'not') {
      const forbidden = (e.schema as { required?: string[] } | undefined)?.required;
      if (forbidden) {
        at = [...at, forbidden[0]];
        key = true;
        message = `${forbidden[0]} is not allowed here`;
      }
    } else if (e.keyword === 'uniqueItems') {
      const { i, j } = e.params as { i: number; j: number };
      message = `must not repeat an item (items ${j} and ${i} are the same)`;
    }
    const text = `${dotted(at)}: ${message}`;
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ at, key, message: text });
  }
  return out;
}

/** Reads one YAML file of the set and checks it against a schema; undefined when it is missing or invalid. */
export function openChecked(set: PolicySet, schemas: PolicySchemas, rel: string, schemaId: string, problems: PolicyProblem[]): YamlFile | undefined {
  const text = set.read(rel);
  if (text === undefined) {
    problems.push({ file: set.label(rel), message: 'file is missing' });
    return undefined;
  }
  const parsed = parseYaml(set.label(rel), text);
  problems.push(...parsed.problems);
  if (!parsed.yaml) return undefined;
  const invalid = schemas.check(schemaId, parsed.yaml);
  problems.push(...invalid);
  return invalid.length === 0 ? parsed.yaml : undefined;
}
