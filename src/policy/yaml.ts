/**
 * YAML parsed with positions, so that every problem names its line; bounded in nesting, aliases and size before
 * anything else looks at the data. Every YAML input goes through here, trusted policy files and uploads alike.
 */
import YAML, { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { capProblems, type PolicyProblem, type Source } from './problems.ts';

/** A step into parsed YAML: a mapping key or a sequence index. */
export type PathSegment = string | number;

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
function yamlNestingProblem(text: string): { line: number; message: string } | undefined {
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
        if (++indent > MAX_YAML_INDENT)
          return { line, message: `is indented more than ${MAX_YAML_INDENT} columns: these files nest four levels deep at most` };
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
    return {
      problems: [{ file, line: 1, message: `holds more than ${MAX_YAML_VALUES} keys, items and values: no policy file needs that many` }],
      values,
    };
  }
  return { yaml, problems: [], values };
}
