/**
 * Reading policy files: where they come from (a directory, a git revision, memory), YAML parsed with positions,
 * checked against the JSON Schemas in policies/schema/, and every problem reported as `file:line: reason`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import YAML, { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';

// ajv-formats is CommonJS with a default export; under ESM the function sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/** Where a policy statement is written, for explanations and error messages. */
export interface Source {
  file: string;
  line: number;
}

export interface PolicyProblem {
  file: string;
  line?: number;
  message: string;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`;
}

/**
 * Problems described for one input at most. An upload of a few kilobytes can hold thousands of mistakes; past the
 * first few dozen a reader learns nothing new, and describing each (its line, its message) is what made the work and
 * the answer grow with them.
 */
export const MAX_REPORTED_PROBLEMS = 50;
/** Characters of one message at most: messages quote keys and values, and one key can be as long as the file. */
const MAX_PROBLEM_MESSAGE = 240;

/** A message clipped to MAX_PROBLEM_MESSAGE characters (never splitting a surrogate pair). */
function clipMessage(message: string): string {
  if (message.length <= MAX_PROBLEM_MESSAGE) return message;
  const cut = message.slice(0, MAX_PROBLEM_MESSAGE - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * Collects problems up to MAX_REPORTED_PROBLEMS and only counts the rest: `add` takes a function so that a problem
 * past the cap costs no line lookup and no message. `list()` ends with one line saying how many were left out.
 */
export class ProblemList {
  readonly #items: PolicyProblem[] = [];
  #omitted = 0;

  get full(): boolean {
    return this.#items.length >= MAX_REPORTED_PROBLEMS;
  }

  /** Problems seen so far, described or not. */
  get count(): number {
    return this.#items.length + this.#omitted;
  }

  add(problem: () => PolicyProblem): void {
    if (this.full) this.#omitted++;
    else {
      const p = problem();
      this.#items.push({ ...p, message: clipMessage(p.message) });
    }
  }

  addAll(problems: readonly PolicyProblem[]): void {
    for (const p of problems) this.add(() => p);
  }

  list(): PolicyProblem[] {
    if (this.#omitted === 0) return [...this.#items];
    // Something was left out, so the list is full: the count goes under the first problem's file.
    return [...this.#items, { file: this.#items[0].file, message: `${this.#omitted} more problem(s) not shown: only the first ${MAX_REPORTED_PROBLEMS} are reported` }];
  }
}

/**
 * At most MAX_REPORTED_PROBLEMS of `problems`, each clipped, and a count of the rest. One more is let through: a
 * list that a ProblemList already capped ends with its count, and must not be counted again.
 */
function capProblems(problems: readonly PolicyProblem[]): PolicyProblem[] {
  if (problems.length <= MAX_REPORTED_PROBLEMS + 1) return problems.map((p) => ({ ...p, message: clipMessage(p.message) }));
  const list = new ProblemList();
  list.addAll(problems);
  return list.list();
}

/** A policy file (or a set of them) that cannot be used; `problems` names each file, line and reason (capped). */
export class PolicyError extends Error {
  readonly problems: readonly PolicyProblem[];
  constructor(problems: PolicyProblem[], heading = 'invalid policy') {
    const shown = capProblems(problems);
    super(`${heading}:\n  ${shown.map(formatProblem).join('\n  ')}`);
    this.name = 'PolicyError';
    this.problems = shown;
  }
}

/** Read access to one policies/ tree, wherever it lives. Paths are relative to policies/, with `/`. */
export interface PolicySet {
  /** How a file is named in messages: `policies/roles/commercial.yaml`, `HEAD~1:policies/rings.yaml`. */
  label(rel: string): string;
  read(rel: string): string | undefined;
  /** Files (not folders) directly inside `relDir`, sorted. */
  list(relDir: string): string[];
}

export function fsPolicySet(dir: string): PolicySet {
  const shown = path.relative(process.cwd(), dir) || '.';
  const display = shown.startsWith('..') ? dir : shown;
  return {
    label: (rel) => path.join(display, rel),
    read: (rel) => {
      const file = path.join(dir, rel);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
    },
    list: (relDir) => {
      const d = path.join(dir, relDir);
      if (!existsSync(d)) return [];
      return readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
    },
  };
}

/** The policies/ tree as committed at a git revision of the repository that holds `dir`. */
export function gitPolicySet(ref: string, dir: string): PolicySet {
  const real = realpathSync(dir);
  const git = (...args: string[]) => execFileSync('git', ['-C', real, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let top: string;
  try {
    top = git('rev-parse', '--show-toplevel').trim();
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch (err) {
    const why = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`cannot read git revision ${ref} of ${dir}: ${why || 'unknown revision'}`);
  }
  const prefix = path.relative(top, real).split(path.sep).join('/');
  // ls-tree takes paths relative to the working directory: run it from the top of the repository.
  const files = new Set(
    execFileSync('git', ['-C', top, 'ls-tree', '-r', '--name-only', ref, '--', prefix], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.slice(prefix.length + 1)),
  );
  return {
    label: (rel) => `${ref}:${prefix}/${rel}`,
    read: (rel) => (files.has(rel) ? git('show', `${ref}:${prefix}/${rel}`) : undefined),
    list: (relDir) =>
      [...files]
        .filter((f) => path.posix.dirname(f) === relDir)
        .map((f) => path.posix.basename(f))
        .sort(),
  };
}

/** Policy files held in memory (synthetic catalogues in benchmarks and tests). */
export function memoryPolicySet(files: Readonly<Record<string, string>>, name = 'memory'): PolicySet {
  return {
    label: (rel) => `${name}:${rel}`,
    read: (rel) => files[rel],
    list: (relDir) =>
      Object.keys(files)
        .filter((f) => path.posix.dirname(f) === relDir)
        .map((f) => path.posix.basename(f))
        .sort(),
  };
}

type PathSegment = string | number;

/** Deeper than any policy or ring policy file needs (they nest four levels); checked before the YAML is parsed. */
const MAX_YAML_NESTING = 32;
const MAX_YAML_INDENT = 64;
/** Aliases a document may expand: enough for any honest file, far too few for a "billion laughs". */
const MAX_YAML_ALIASES = 100;
/**
 * Values (map entries, list items, scalars) a document may hold once its aliases are expanded: the largest policy
 * file holds some hundreds, an upload is at most 64 KiB. Checked before any schema or rule looks at the data, so
 * their work is bounded by this, not by what a hostile file can pack into its bytes.
 */
export const MAX_YAML_VALUES = 10_000;

/** A parsed YAML policy file that can say on which line any of its values sits. */
export class YamlFile {
  readonly file: string;
  readonly data: unknown;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;
  /** Each mapping's pairs by key, built on its first lookup: a lookup per problem must not scan the mapping. */
  readonly #keys = new WeakMap<object, Map<string, Pair>>();
  #lookups = 0;

  constructor(file: string, doc: Document.Parsed, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  }

  /** Lines looked up so far: what tests read to see that problems past the cap cost none. */
  get lookups(): number {
    return this.#lookups;
  }

  #pair(map: YAMLMap, key: string): Pair | undefined {
    let index = this.#keys.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items) {
        const k = isPair(p) ? String(isScalar(p.key) ? p.key.value : p.key) : undefined;
        if (k !== undefined && !index.has(k)) index.set(k, p);
      }
      this.#keys.set(map, index);
    }
    return index.get(key);
  }

  /** The line of the value at `at` (or of its key, with `key`); the nearest enclosing node when it is absent. */
  lineOf(at: readonly PathSegment[], options: { key?: boolean } = {}): number | undefined {
    this.#lookups++;
    let node: unknown = this.#doc.contents;
    let found: YamlNode | undefined = node as YamlNode;
    for (let i = 0; i < at.length; i++) {
      const seg = at[i];
      const last = i === at.length - 1;
      if (isMap(node)) {
        const pair = this.#pair(node, String(seg));
        if (!pair) break;
        if (last && options.key) {
          found = pair.key as YamlNode;
          break;
        }
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        node = item;
      } else {
        break;
      }
      if (node && typeof node === 'object' && 'range' in node) found = node as YamlNode;
    }
    const offset = found?.range?.[0];
    return offset === undefined ? undefined : this.#lines.linePos(offset).line;
  }

  source(at: readonly PathSegment[], options: { key?: boolean } = {}): Source {
    return { file: this.file, line: this.lineOf(at, options) ?? 1 };
  }

  problem(at: readonly PathSegment[], message: string, options: { key?: boolean } = {}): PolicyProblem {
    return { file: this.file, line: this.lineOf(at, options), message };
  }
}

/**
 * Why a YAML text nests too deeply to be parsed, or undefined. The YAML parser recurses once per level of nesting,
 * and some ten kilobytes of `[` or `- ` are enough to exhaust the process outright (a V8 fatal error that no
 * try/catch sees), so depth is bounded on the text first: flow brackets, block-sequence dashes and indentation.
 */
export function yamlNestingProblem(text: string): { line: number; message: string } | undefined {
  let flow = 0;
  let line = 1;
  let lineStart = true;
  let indent = 0;
  let dashes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = true;
      indent = 0;
      dashes = 0;
      continue;
    }
    if (lineStart) {
      if (c === ' ') {
        if (++indent > MAX_YAML_INDENT) return { line, message: `is indented more than ${MAX_YAML_INDENT} columns: these files nest four levels deep at most` };
        continue;
      }
      if (c === '-' && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        if (++dashes > MAX_YAML_NESTING) return { line, message: `nests more than ${MAX_YAML_NESTING} lists on one line` };
        indent++;
        continue;
      }
      if (c !== '\t') lineStart = false;
    }
    if (c === '[' || c === '{') {
      if (++flow > MAX_YAML_NESTING) return { line, message: `nests [ ] or { } more than ${MAX_YAML_NESTING} levels deep` };
    } else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
  }
  return undefined;
}

/**
 * The first key that a mapping repeats, or undefined. The YAML library's own check (`uniqueKeys`) compares every
 * key with every other, which took seconds on an upload of some thousand keys; a set per mapping is linear. Keys are
 * compared as the JS object will hold them (`1` and `"1"` are the same property).
 */
function repeatedKey(doc: Document.Parsed): YamlNode | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = pair.key.value === null ? '' : String(pair.key.value);
          if (seen.has(key)) return pair.key;
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  return undefined;
}

/**
 * Counts the values of parsed data, aliases expanded (the data shares their objects), stopping past MAX_YAML_VALUES:
 * the count is the work every later check does, so it is bounded here.
 */
export function countValues(data: unknown, max = MAX_YAML_VALUES): number {
  let count = 0;
  const stack: unknown[] = [data];
  while (stack.length > 0 && count <= max) {
    const value = stack.pop();
    count++;
    if (Array.isArray(value)) for (let i = value.length - 1; i >= 0 && stack.length <= max; i--) stack.push(value[i]);
    else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (stack.length > max) break;
        count++;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return count;
}

/**
 * Parses YAML text; syntax errors, nesting too deep to parse safely, repeated keys, alias bombs and documents of
 * more than MAX_YAML_VALUES values come back as problems with their line. Every YAML input goes through here,
 * trusted policy files and uploads alike. `values` is how many values were counted (for tests of the bound).
 */
export function parseYaml(file: string, text: string): { yaml?: YamlFile; problems: PolicyProblem[]; values?: number } {
  const tooDeep = yamlNestingProblem(text);
  if (tooDeep) return { problems: [{ file, line: tooDeep.line, message: tooDeep.message }] };
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      problems: capProblems(
        doc.errors.map((e) => ({
          file,
          line: e.linePos?.[0]?.line,
          message: `YAML syntax: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
        })),
      ),
    };
  }
  const repeated = repeatedKey(doc);
  if (repeated) {
    const line = repeated.range ? lines.linePos(repeated.range[0]).line : undefined;
    return { problems: [{ file, line, message: 'YAML syntax: Map keys must be unique' }] };
  }
  let yaml: YamlFile;
  try {
    yaml = new YamlFile(file, doc, lines);
  } catch (err) {
    // The YAML library refuses alias bombs ("billion laughs") with a ReferenceError of its own.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      return { problems: [{ file, message: `uses more than ${MAX_YAML_ALIASES} aliases (*name): write the values out` }] };
    }
    throw err;
  }
  const values = countValues(yaml.data);
  if (values > MAX_YAML_VALUES) {
    return { problems: [{ file, line: 1, message: `holds more than ${MAX_YAML_VALUES} keys, items and values: no policy file needs that many` }], values };
  }
  return { yaml, problems: [], values };
}

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
  return at.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '') || '(document)';
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
