/**
 * The hostile strings of the fuzzer's systematic pass, and where they go: every string a request carries (path and
 * query parameters, headers, body fields at any depth, the keys of nested objects) and every cursor, both as sent
 * and inside the encoding a cursor uses. Each of these strings once reached a place that trusted it: PostgreSQL
 * (NUL: 22021, a number past bigint: 22003), Object.prototype (`constructor`), or a decoder.
 */

/** The strings themselves. */
export const HOSTILE_BASE: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\u0001\u0007\u001b\u007f',
  '\u0085\u009b\u2028\u2029',
  '\r\nX-Injected: 1',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  '9223372036854775808',
  '-9223372036854775809',
  '1e309',
  '\ud800',
  'a\udc00b',
];

/** The same strings as base64 and base64url, which is how opaque values (cursors, tokens) are decoded. */
export const HOSTILE_ENCODED: readonly string[] = [
  ...new Set(HOSTILE_BASE.flatMap((s) => [Buffer.from(s, 'utf8').toString('base64'), Buffer.from(s, 'utf8').toString('base64url')])),
].filter((s) => !HOSTILE_BASE.includes(s));

/** Whether Node's HTTP client can send `value` in a header at all (it refuses control characters and non-Latin-1). */
export function headerSafe(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]+$/.test(value);
}

/** The hostile strings a header can carry, base and encoded. */
export const HOSTILE_HEADERS: readonly string[] = [...HOSTILE_BASE, ...HOSTILE_ENCODED].filter(headerSafe);

/**
 * `value` with `hostile` spliced in after its first character: a NUL inside an otherwise valid e-mail address or
 * handle passes checks that the bare NUL fails.
 */
export function spliced(value: string, hostile: string): string {
  return value.length === 0 ? hostile : `${value.slice(0, 1)}${hostile}${value.slice(1)}`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonPath = (string | number)[];

/** Every place a string sits in `value` (`kind: 'value'`) and every object a key can be added to (`kind: 'key'`). */
export function slotsOf(value: Json, at: JsonPath = []): { kind: 'value' | 'key'; at: JsonPath; sample?: string }[] {
  if (typeof value === 'string') return [{ kind: 'value', at, sample: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => slotsOf(v, [...at, i]));
  if (value !== null && typeof value === 'object') {
    return [{ kind: 'key', at }, ...Object.entries(value).flatMap(([k, v]) => slotsOf(v, [...at, k]))];
  }
  return [];
}

/** A deep copy of `value` with the string at `at` replaced, or with `key` added to the object at `at`. */
export function withHostile(value: Json, slot: { kind: 'value' | 'key'; at: JsonPath }, hostile: string): Json {
  const copy = structuredClone(value);
  if (slot.kind === 'value' && slot.at.length === 0) return hostile;
  let node: any = copy;
  const path = slot.kind === 'value' ? slot.at.slice(0, -1) : slot.at;
  for (const seg of path) node = node[seg];
  if (slot.kind === 'value') node[slot.at[slot.at.length - 1]] = hostile;
  else Object.defineProperty(node, hostile, { value: 'x', enumerable: true, writable: true, configurable: true });
  return copy;
}

/**
 * Cursors built the way a list builds them, from one it gave out: base64url of a JSON position (each of its
 * values replaced, or spliced) or of a plain text (replaced, or spliced after its prefix). The raw hostile strings
 * are sent as cursors besides.
 */
export function encodedCursors(issued: string, hostiles: readonly string[]): string[] {
  const text = Buffer.from(issued, 'base64url').toString('utf8');
  const encode = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
  let position: unknown;
  try {
    position = JSON.parse(text);
  } catch {
    position = undefined;
  }
  const out: string[] = [];
  if (position !== null && typeof position === 'object' && !Array.isArray(position)) {
    for (const [key, original] of Object.entries(position)) {
      if (key === 'v') continue;
      for (const h of hostiles) {
        out.push(encode(JSON.stringify({ ...position, [key]: h })));
        out.push(encode(JSON.stringify({ ...position, [key]: `${String(original)}${h}` })));
      }
      // The same hostile numbers as JSON numbers (parsed to doubles: 1e309 is Infinity).
      for (const n of ['9223372036854775808', '1e309', '-1', '0.5']) out.push(encode(`{"v":1,"${key}":${n}}`));
    }
  } else {
    const prefix = /^[a-z]+_/.exec(text)?.[0] ?? '';
    for (const h of hostiles) {
      out.push(encode(h));
      out.push(encode(`${prefix}${h}`));
    }
  }
  return [...new Set(out)].filter((c) => c.length <= 512);
}
