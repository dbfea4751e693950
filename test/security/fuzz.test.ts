/**
 * Fuzzing from the spec (issue 7): every operation of openapi.yaml receives generated bad input — wrong types,
 * missing and extra fields, huge and empty strings, unicode edge cases, nesting bombs, malformed JSON, forms,
 * YAML and multipart, oversize and compressed uploads, SQL/HTML/path injection, bad UUIDs — in its path, query,
 * headers and body, without a credential and with a valid session token. Every answer must be a 4xx in the error
 * envelope (the interaction pages: their HTML error page) that conforms to openapi.yaml, shows nothing internal and
 * carries no secret; and the database must be byte-for-byte what it was (see WRITTEN_ON_PURPOSE for the few rows
 * that security features write on purpose when they refuse a request).
 *
 * Seeded: a failure prints the seed; `FUZZ_SEED=<n> npm test -- test/security/fuzz.test.ts` replays it.
 * `FUZZ_RUNS` sets the generated cases per operation and credential (default 60).
 *
 * Besides the random cases, a systematic pass (issue 12) sends each hostile string of ./hostile.ts to every string
 * an operation takes — path and query parameters, cursors raw and in their encoded form, headers, every body field
 * at any depth and the keys of nested objects, as JSON, multipart and YAML — the rest of the request valid, so the
 * string reaches the code behind validation. Those requests may succeed; none may answer 5xx.
 */
import test from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Operation } from '../../src/http/openapi.ts';
import { REQUIRED_FIELDS, fieldCatalogue } from '../../src/profiles/catalogue.ts';
import { checkFieldValue, emailProblem, HANDLE_PATTERN } from '../../src/profiles/values.ts';
import { spec, startTestApp, type TestApp, useTestApp } from '../helpers/app.ts';
import { checkRejected, encodeBytes, multipartBody, send, type RawRequest } from './http.ts';
import { recordSecrets } from './secrets.ts';
import { encodedCursors, HOSTILE_BASE, HOSTILE_ENCODED, HOSTILE_HEADERS, slotsOf, spliced, withHostile, type JsonPath } from './hostile.ts';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 60;
const PASSWORD = 'fuzzing is a kind of listening';

/**
 * What a refused request may write on purpose; everything else must be unchanged. Each entry says why.
 * - login_throttle: failed logins (and wrong current passwords) count per account and per address, and the abuse
 *   limits count requests per address: counting refusals is how guessing is stopped.
 * - audit_events: failed sign-ins, password changes and e-mail changes (wrong current password) are audited on
 *   purpose (these actions only).
 * - email_verifications.attempts: a wrong code uses up one of its attempts, which is what makes guessing hopeless.
 * - outbox delivery columns: the outbox worker delivers the setup's mail in the background.
 * - audit_chain_heads: a chain's head moves with each event appended to it, so with the purposeful events above;
 *   the events themselves are what audit_events checks.
 * - audit_checkpoints: the checkpoint job seals the record in the background (AUDIT_CHECKPOINT_SECONDS).
 */
const WRITTEN_ON_PURPOSE: Record<string, { skip?: true; where?: string; columns?: string[] }> = {
  login_throttle: { skip: true },
  audit_events: { where: `action not in ('session.login_failed', 'password.change_failed', 'email.change_failed')` },
  email_verifications: { columns: ['attempts'] },
  outbox: { columns: ['state', 'attempts', 'next_attempt_at', 'delivered_at', 'last_error', 'claim', 'claimed_at'] },
  audit_chain_heads: { skip: true },
  audit_checkpoints: { skip: true },
};

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(10)--',
  '" OR ""="',
  "admin'--",
  "%' AND 1=1 --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}${7*7}<%= 7*7 %>',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '..\\..\\..\\windows\\win.ini',
  'file:///etc/passwd',
  '$(id)`id`|cat /etc/passwd',
  '\r\nSet-Cookie: injected=1',
  '__proto__',
  'constructor.prototype',
  '{"$ne": null}',
  '*)(uid=*))(|(uid=*',
  '\\x00\\u0000%00',
];
const UNICODE = [
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uDC00\uD800y',
  '\u202Eevil\u202C.exe',
  '\u200B\u200C\u200D\u2060',
  '\uFEFFbom',
  'A\u0301\u0301\u0301\u0301\u0301',
  '𝕳𝖊𝖑𝖑𝖔',
  '😀'.repeat(300),
  '\u2028\u2029\u0085',
  'İıſK',
  'ﷺ'.repeat(50),
  '',
  ' ',
];
const BAD_UUIDS = [
  'not-a-uuid',
  '123',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  '{00000000-0000-0000-0000-000000000000}',
  '00000000000000000000000000000000',
  '00000000-0000-0000-0000-00000000000',
  '00000000-0000-0000-0000-0000000000000',
  "00000000-0000-0000-0000-000000000000'",
  '00000000-0000-0000-0000-000000000000/../x',
  '-1',
  '1e400',
];

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INJECTIONS, ...UNICODE, ...BAD_UUIDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 2000, maxLength: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 600, max: 40_000 }).map((n) => 'a'.repeat(n)) },
);
const wrongTyped = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

type Schema = Record<string, any>;

function deref(schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
    s =
      (s.$ref as string)
        .replace(/^#\//, '')
        .split('/')
        .reduce((node: any, key) => node?.[key], spec.document) ?? {};
  }
  return s;
}

function bodySchema(op: Operation, mediaType: string): Schema {
  const body = deref(op.raw.requestBody as Schema | undefined);
  return deref(body.content?.[mediaType]?.schema);
}

interface ParamDef {
  name: string;
  in: string;
  schema: Schema;
}

function paramsOf(op: Operation): ParamDef[] {
  const shared = (spec.document.paths[op.path].parameters as Schema[] | undefined) ?? [];
  return [...shared, ...((op.raw.parameters as Schema[] | undefined) ?? [])].map((p) => {
    const d = deref(p);
    return { name: d.name, in: d.in, schema: deref(d.schema) };
  });
}

/** Path values that are well formed but name nothing, for the parameters a case does not fuzz. */
function placeholder(param: ParamDef): string {
  switch (param.name) {
    case 'status_id':
      return randomUUID();
    case 'ring_id':
      return randomUUID();
    case 'handle':
      return `nobody-${randomBytes(4).toString('hex')}`;
    case 'uid':
      return randomBytes(16).toString('base64url');
    case 'client_id':
      return `svc_${randomBytes(8).toString('hex')}`;
    case 'asset':
      return `nothing-${randomBytes(3).toString('hex')}.js`;
    default:
      return randomBytes(6).toString('hex');
  }
}

/** Path values a parameter must refuse, or (for loose schemas) values that name nothing: both must answer 4xx. */
const DEFAULT_RING_NAMES = new Set(['public', 'semi-private', 'private', 'restricted', 'policy']);
function pathValueArb(_param: ParamDef): fc.Arbitrary<string> {
  const raw = fc.oneof(
    nastyString.map((s) => (s === '' ? '%20' : bounded(encodeBytes(s.slice(0, 3000))))),
    fc.constantFrom('%00', '%ED%A0%80', '%FF%FE%FD', '%C0%AF', '..%2F..%2F', '%2e%2e', '.%00.', '%E2%80%AE', '%25', '%u0000'),
  );
  return raw.filter((v) => !DEFAULT_RING_NAMES.has(decodeURIComponentSafe(v).toLowerCase()));
}

/** Keeps an encoded value under Node's 16 KB header limit (a longer request line never reaches the app). */
function bounded(encoded: string, max = 6000): string {
  return encoded.length <= max ? encoded : encoded.slice(0, max).replace(/%[0-9A-F]?$/, '');
}

function decodeURIComponentSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

interface FuzzCase {
  what: string;
  req: RawRequest;
  /** A documented 2xx is allowed: operations that answer alike whatever they are given (see SAME_ANSWER). */
  allowSuccess?: boolean;
}

/** Operations whose answer is deliberately the same for any input they accept (no account enumeration). */
const SAME_ANSWER = new Set(['forgotPassword', 'verifySession']);

interface World {
  token: string;
  refreshToken: string;
  handle: string;
  email: string;
  userId: string;
  bodyLimit: number;
  uploadLimit: number;
}

function buildPath(op: Operation, values: Record<string, string> = {}): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? placeholder({ name, in: 'path', schema: {} }));
}

function withAuth(headers: Record<string, string>, token: string | undefined): Record<string, string> {
  return token ? { ...headers, authorization: `Bearer ${token}` } : headers;
}

/** A PNG header declaring a 100000 × 100000 picture in a few bytes: a decompression bomb for image decoders. */
function pixelBombPng(): Buffer {
  const crc = (buf: Buffer) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', gzipSync(Buffer.alloc(4096)).subarray(10)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JSON object derived from a body schema, with one change that makes it invalid (checked against the spec). */
function mutatedObjectArb(op: Operation, mediaType: string): fc.Arbitrary<Record<string, unknown>> {
  const schema = bodySchema(op, mediaType);
  const props = Object.entries((schema.properties ?? {}) as Record<string, Schema>).map(([k, v]) => [k, deref(v)] as const);
  const required = new Set<string>((schema.required ?? []) as string[]);
  const baseArb = fc.record(Object.fromEntries(props.map(([k, p]) => [k, fc.oneof(nastyString, wrongTyped, fc.constant(sampleFor(p)))])), {
    requiredKeys: [],
  });
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('extra' as const),
      key: fc.oneof(fc.constantFrom(...INJECTIONS, '__proto__', 'constructor', 'is_operator', 'user_id', 'role'), fc.string({ maxLength: 20 })),
      value: fc.jsonValue({ maxDepth: 2 }),
    }),
    fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...(required.size ? [...required] : ['-'])) }),
    fc.record({ kind: fc.constant('retype' as const), key: fc.constantFrom(...(props.length ? props.map(([k]) => k) : ['-'])), value: wrongTyped }),
    fc.record({
      kind: fc.constant('bomb' as const),
      key: fc.constantFrom(...(props.length ? props.map(([k]) => k) : ['x'])),
      depth: fc.integer({ min: 2_000, max: 120_000 }),
    }),
  );
  return fc
    .tuple(baseArb, mutation)
    .map(([base, m]) => {
      const out: Record<string, unknown> = { ...base };
      if (m.kind === 'extra') Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      if (m.kind === 'drop') delete out[m.key];
      if (m.kind === 'retype') out[m.key] = m.value;
      if (m.kind === 'bomb') out[m.key] = { __bomb: m.depth };
      return out;
    })
    .filter((value) => (!hasBomb(value) ? op.validateBody(mediaType, structuredClone(value)).length > 0 : true));
}

let bomb: Buffer | undefined;
/** 40 MB of JSON in 40 KB of gzip: the body limit must hold after inflation. */
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.from(`{"x":"${'a'.repeat(40 * 1024 * 1024)}"}`));
  return bomb;
}

function hasBomb(value: Record<string, unknown>): boolean {
  return Object.values(value).some((v) => v !== null && typeof v === 'object' && '__bomb' in (v as object));
}

/** JSON text for a value, expanding `{__bomb: n}` into n nested arrays (too deep for any recursive code). */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && '__bomb' in v ? `\u0001BOMB${v.__bomb}\u0001` : v)).replace(
    /"\\u0001BOMB(\d+)\\u0001"/g,
    (_m, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)),
  );
}

function sampleFor(p: Schema): unknown {
  const type = Array.isArray(p.type) ? p.type[0] : p.type;
  if (type === 'array') return [];
  if (type === 'object') return {};
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  return 'x'.repeat(Math.max(1, p.minLength ?? 1));
}

/** Generic bad bodies for one operation and one of its media types (or any body, for operations that take none). */
function bodyCaseArb(op: Operation, world: World): fc.Arbitrary<{ what: string; body: Buffer | string; type: string; encoding?: string }> {
  if (op.bodyTypes.length === 0) {
    return fc.oneof(
      fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => ({ what: 'a body where none is taken', body: JSON.stringify(v ?? {}) || '{}', type: 'application/json' })),
      nastyString.map((s) => ({ what: 'a text body where none is taken', body: s || 'x', type: 'text/plain' })),
    );
  }
  const arbs: fc.Arbitrary<{ what: string; body: Buffer | string; type: string; encoding?: string }>[] = [];
  const json = op.bodyTypes.includes('application/json');
  const form = op.bodyTypes.includes('application/x-www-form-urlencoded');
  const multipart = op.bodyTypes.includes('multipart/form-data');
  const yaml = op.bodyTypes.includes('application/yaml');
  if (json) {
    arbs.push(
      mutatedObjectArb(op, 'application/json').map((v) => ({
        what: 'a JSON object with one invalid change',
        body: jsonText(v),
        type: 'application/json',
      })),
    );
    arbs.push(
      fc
        .oneof(fc.constant([]), fc.string({ maxLength: 30 }), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 2 })))
        .map((v) => ({
          what: 'JSON that is not an object',
          body: JSON.stringify(v),
          type: 'application/json',
        })),
    );
    arbs.push(
      fc
        .oneof(
          fc.constantFrom(
            '{',
            '{"a":',
            '{"a":1,}',
            "{'a':1}",
            '{"a":NaN}',
            '{"a":undefined}',
            '\uFEFF{"a":1}',
            '{"a":1}{"b":2}',
            '{"a":"\\ud800"',
            '{"a":"\\x00"}',
            '[1,2',
            'nul',
            '"',
          ),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return true;
            }
          }),
          fc.integer({ min: 50_000, max: 400_000 }).map((n) => `{"x":${'['.repeat(n)}`),
        )
        .map((s) => ({ what: 'malformed JSON', body: s, type: 'application/json' })),
    );
    arbs.push(
      fc
        .integer({ min: 1, max: 3 })
        .map((k) => ({ what: 'a body over BODY_LIMIT', body: `{"x":"${'a'.repeat(world.bodyLimit * k)}"}`, type: 'application/json' })),
    );
    arbs.push(fc.constant(null).map(() => ({ what: 'a gzip bomb', body: gzipBomb(), type: 'application/json', encoding: 'gzip' })));
    arbs.push(
      fc.constantFrom('gzip', 'deflate', 'br', 'x-unknown').map((encoding) => ({
        what: 'a body that is not the encoding it claims',
        body: 'not compressed at all',
        type: 'application/json',
        encoding,
      })),
    );
    // JSON has no charset parameter (RFC 8259): a server may ignore it, so the body itself is invalid too.
    arbs.push(
      fc.constantFrom('x-no-such-charset', 'utf-16le', 'utf-7', 'ebcdic-cp-us').map((charset) => ({
        what: `JSON said to be in ${charset}`,
        body: charset === 'utf-16le' ? Buffer.from('{"fuzz_unknown_field":1}', 'utf16le') : '{"fuzz_unknown_field":1}',
        type: `application/json; charset=${charset}`,
      })),
    );
  }
  if (form) {
    arbs.push(
      mutatedObjectArb(op, 'application/x-www-form-urlencoded')
        // qs (behind the form parser) drops prototype keys and nests bracketed ones: keep to keys it takes as they are.
        .filter((v) => !hasBomb(v) && Object.keys(v).every((k) => k !== '' && !(k in Object.prototype) && !/[[\].]/.test(k)))
        .map((v) => ({
          what: 'a form with one invalid change',
          body: new URLSearchParams(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)])).toString(),
          type: 'application/x-www-form-urlencoded',
        }))
        .filter((c) => op.validateBody('application/x-www-form-urlencoded', Object.fromEntries(new URLSearchParams(c.body))).length > 0),
    );
    arbs.push(
      // The form parser drops prototype keys, so each also carries a field no schema knows.
      fc
        .constantFrom(
          'a[b][c][d][e][f][g][h]=1',
          'x[]=1&x[]=2&x[__proto__][p]=1',
          '__proto__[polluted]=yes',
          'constructor[prototype][polluted]=yes',
          '%',
          '=&=&&=',
          'a=%ZZ',
        )
        .map((body) => ({
          what: 'a form with nesting, pollution or broken escapes',
          body: `${body}&fuzz_unknown_field=1`,
          type: 'application/x-www-form-urlencoded',
        })),
    );
  }
  if (multipart) {
    const fileField = op.fileFields[0] ?? 'file';
    arbs.push(
      fc
        .constantFrom(
          'no-boundary',
          'wrong-boundary',
          'truncated',
          'no-name',
          'too-many-files',
          'too-many-fields',
          'huge-field',
          'pixel-bomb',
          'not-an-image',
          'header-injection',
        )
        .map((kind) => {
          const extra = { name: 'unexpected_field', data: 'x' };
          switch (kind) {
            case 'no-boundary':
              return { what: 'multipart without a boundary', body: 'hello', type: 'multipart/form-data' };
            case 'wrong-boundary': {
              const m = multipartBody([extra]);
              return { what: 'multipart whose parts use another boundary', body: m.body, type: 'multipart/form-data; boundary=somethingelse' };
            }
            case 'truncated': {
              const m = multipartBody([{ name: fileField, filename: 'a.png', type: 'image/png', data: randomBytes(2000) }]);
              return { what: 'multipart cut short', body: m.body.subarray(0, 1200), type: m.type };
            }
            case 'no-name': {
              const m = multipartBody([{ name: '', data: 'x' }, extra]);
              return { what: 'multipart part without a name', body: m.body, type: m.type };
            }
            case 'too-many-files': {
              const m = multipartBody(
                Array.from({ length: 7 }, (_, i) => ({ name: `f${i}`, filename: `${i}.png`, type: 'image/png', data: randomBytes(10) })),
              );
              return { what: 'more files than allowed', body: m.body, type: m.type };
            }
            case 'too-many-fields': {
              const m = multipartBody(Array.from({ length: 120 }, (_, i) => ({ name: `x${i}`, data: 'x' })));
              return { what: 'more fields than allowed', body: m.body, type: m.type };
            }
            case 'huge-field': {
              const m = multipartBody([{ name: 'name', data: 'a'.repeat(300 * 1024) }]);
              return { what: 'a field over its limit', body: m.body, type: m.type };
            }
            case 'pixel-bomb': {
              const m = multipartBody([{ name: fileField, filename: 'bomb.png', type: 'image/png', data: pixelBombPng() }, extra]);
              return { what: 'a pixel bomb with an extra field', body: m.body, type: m.type };
            }
            case 'not-an-image': {
              const m = multipartBody([
                { name: fileField, filename: '../../etc/passwd', type: 'image/png', data: '<?php system($_GET["c"]); ?>' },
                extra,
              ]);
              return { what: 'a script named like a path, with an extra field', body: m.body, type: m.type };
            }
            default: {
              const m = multipartBody([{ name: 'x"\r\nContent-Type: text/html\r\n\r\n<script>', data: 'x' }]);
              return { what: 'a part name with header injection', body: m.body, type: m.type };
            }
          }
        }),
    );
  }
  if (yaml) {
    arbs.push(
      fc
        .constantFrom(
          'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n',
          'version: 1\ncustom_rings: !!js/function "function(){ return process.exit(1) }"\n',
          'version: 1\nplacements: {bio: public}\nplacements: {bio: private}\n',
          'version: 2\nunknown: yes\n',
          '\t- broken: [yaml\n',
          `version: 1\ncustom_rings:\n${'  - name: r\n    fields: [bio]\n'.repeat(3000)}`,
          `${'['.repeat(20_000)}`,
          `${'['.repeat(1000)}${']'.repeat(1000)}`,
          `${'['.repeat(5000)}${']'.repeat(5000)}`,
          `${'- '.repeat(5000)}x`,
          `${'{a: '.repeat(3000)}1${'}'.repeat(3000)}`,
          'version: 1\nplacements:\n  "\'; DROP TABLE rings; --": public\n',
          'version: 1\ncustom_rings:\n  - name: "<script>alert(1)</script>"\n    fields: [bio]\n',
          '',
          '\u0000',
        )
        .map((s) => ({ what: 'a hostile or invalid ring policy file', body: s, type: 'application/yaml' })),
    );
    arbs.push(nastyString.map((s) => ({ what: 'YAML that is not a ring policy', body: s || 'x', type: 'application/yaml' })));
  }
  arbs.push(
    fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'application/octet-stream',
        'application/json-patch+json',
        'image/png',
        'application/jsonx',
        'multipart/mixed; boundary=x',
        'text/html',
      )
      .filter((t) => !op.bodyTypes.includes(t))
      .map((type) => ({ what: 'a content type the operation does not take', body: '{"a":1}', type })),
  );
  return fc.oneof(...arbs);
}

/** Operation-specific cases that pass the schema but must still be refused (or, for SAME_ANSWER, answer alike). */
function semanticCases(op: Operation, world: World): fc.Arbitrary<FuzzCase> | undefined {
  const json = (body: unknown) => ({ body: jsonText(body), headers: { 'content-type': 'application/json' } });
  const catalogue = fieldCatalogue(app.service.deps);
  const refusedFor = (field: string, value: unknown) => {
    const def = catalogue.fields.get(field);
    if (!def) return true;
    // null removes a field: refused only for the required ones, the computed ones and the avatar (its own route).
    if (value === null) return REQUIRED_FIELDS.has(field) || def.derivedFrom !== undefined || def.type === 'image';
    return !checkFieldValue(catalogue, def, value, field).ok;
  };
  const strings = fc.constantFrom(...INJECTIONS, ...UNICODE.filter(Boolean), ...BAD_UUIDS);
  const post = (what: string, body: unknown, allowSuccess = false) => ({
    what,
    req: { method: op.method, path: buildPath(op), ...json(body) },
    allowSuccess,
  });
  switch (op.operationId) {
    case 'registerUser':
      return fc.oneof(
        strings
          .filter((s) => emailProblem(s.trim()) !== undefined)
          .map((s) =>
            post('registration with a hostile e-mail', { name: 'Eve', email: s, handle: `eve${randomBytes(3).toString('hex')}`, password: PASSWORD }),
          ),
        strings
          .filter((s) => !HANDLE_PATTERN.test(s))
          .map((s) =>
            post('registration with a hostile handle', {
              name: 'Eve',
              email: `eve.${randomBytes(3).toString('hex')}@example.com`,
              handle: s,
              password: PASSWORD,
            }),
          ),
        strings.map((s) =>
          post('registration with a hostile name', {
            name: `${s}\u0000`,
            email: `eve.${randomBytes(3).toString('hex')}@example.com`,
            handle: `eve${randomBytes(3).toString('hex')}`,
            password: PASSWORD,
          }),
        ),
        strings.map((s) =>
          post('registration with a hostile public key', {
            name: 'Eve',
            email: `eve.${randomBytes(3).toString('hex')}@example.com`,
            handle: `eve${randomBytes(3).toString('hex')}`,
            password: PASSWORD,
            public_key: `-----BEGIN PUBLIC KEY-----\n${s}\n-----END PUBLIC KEY-----`,
          }),
        ),
        fc.constant(
          post('registration of the taken address', {
            name: 'Eve',
            email: world.email.toUpperCase(),
            handle: `eve${randomBytes(3).toString('hex')}`,
            password: PASSWORD,
          }),
        ),
      );
    case 'loginUser':
      return fc.oneof(
        strings.map((s) => post('login with a hostile e-mail', { email: s, password: PASSWORD })),
        strings.map((s) => post('login with a hostile handle', { handle: s, password: PASSWORD })),
        strings.map((s) => post('login with the right handle and a hostile password', { handle: world.handle, password: s })),
        fc.constant(post('login with both e-mail and handle', { email: world.email, handle: world.handle, password: PASSWORD })),
      );
    case 'refreshSession':
      return strings.map((s) => post('refresh with a hostile token', { refresh_token: s }));
    case 'verifySession':
      return strings.map((s) => post('verify a hostile token', { token: s }, true));
    case 'forgotPassword':
      return strings.map((s) => post('forgot-password for a hostile address', { email: s }, true));
    case 'resetPassword':
      return strings.map((s) => post('reset with a hostile token', { token: s, new_password: 'a perfectly fine new password' }));
    case 'verifyEmail':
      return strings.map((s) => ({ ...post('a hostile verification code', { code: s.slice(0, 32) }), token: true }));
    case 'changePassword':
      return strings.map((s) => ({
        ...post('a password change with a hostile current password', { current_password: s, new_password: 'another perfectly fine password' }),
        token: true,
      }));
    case 'updateProfileInfo':
      return fc.oneof(
        strings.map((s) => post('an update of a field that does not exist', { updated_fields: { [s || 'x']: 'value' } })),
        fc
          .tuple(
            fc.constantFrom(
              'date_of_birth',
              'email',
              'handle',
              'phone',
              'website',
              'locale',
              'nationality',
              'home_address',
              'emergency_contact',
              'age',
              'avatar',
              'gender',
              'blood_type',
              'languages',
            ),
            fc.oneof(strings, wrongTyped),
          )
          .filter(([field, value]) => refusedFor(field, value))
          .map(([field, value]) => post(`a hostile value for ${field}`, { updated_fields: { [field]: value } })),
        fc
          .constantFrom('name', 'bio', 'given_name')
          .map((field) => post(`a control character in ${field}`, { updated_fields: { [field]: 'evil\u0000value' } })),
        fc.constant(post('an empty update', { updated_fields: {} })),
        fc.constant(post('removing a required field', { updated_fields: { email: null } })),
        fc.integer({ min: 2001, max: 3900 }).map((n) => post('a text over its limit', { updated_fields: { bio: 'b'.repeat(n) } })),
        fc.constant(post('a nesting bomb in an object field', { updated_fields: { home_address: { street_address: { __bomb: 50_000 } } } })),
      );
    case 'createStatus':
      return fc.oneof(
        strings.map((s) => post('a status in a hostile ring', { content: 'hello', ring: s || 'x' })),
        fc.constant(post('an empty status', { content: '' })),
        fc.integer({ min: 501, max: 4000 }).map((n) => post('a status over 500 characters', { content: 's'.repeat(n) })),
        fc.constant(post('a status of control characters', { content: '\u0000\u0001' })),
      );
    case 'createPrivilegeRing':
      return fc.oneof(
        fc
          .constantFrom('shoe_size', 'password_hash', 'users.email', 'a'.repeat(120))
          .map((f) => post('a ring with a field that does not exist', { ring_name: 'Fuzz ring', assigned_data: { fields: [f] } })),
        fc
          .constantFrom('root', 'operator', 'admin', 'public')
          .map((r) =>
            post('a ring admitting a role that does not exist', { ring_name: 'Fuzz ring', assigned_data: { fields: ['bio'], roles: [r] } }),
          ),
        fc
          .constantFrom('svc_nothing', "x'or'1", '<script>')
          .map((s) => post('a ring admitting an unknown service', { ring_name: 'Fuzz ring', assigned_data: { fields: ['bio'], services: [s] } })),
      );
    case 'uploadAvatar': {
      const upload = (what: string, data: Buffer, filename = 'a.png', type = 'image/png') => {
        const m = multipartBody([{ name: 'avatar', filename, type, data }]);
        return { what, req: { method: op.method, path: buildPath(op), body: m.body, headers: { 'content-type': m.type } }, token: true };
      };
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      return fc.oneof(
        fc.constant(null).map(() => upload('a PNG declaring 100000 × 100000 pixels', pixelBombPng())),
        fc.integer({ min: 0, max: 4000 }).map((n) => upload('a PNG signature and then garbage', Buffer.concat([png, randomBytes(n)]))),
        fc.constant(null).map(() => upload('a script with an image name', Buffer.from('<?php system($_GET["c"]); ?>'), 'shell.php.png')),
        fc
          .constant(null)
          .map(() =>
            upload(
              'an SVG with a script',
              Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
              'a.svg',
              'image/svg+xml',
            ),
          ),
        fc
          .constant(null)
          .map(() =>
            upload(
              'a JPEG signature and then garbage',
              Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3000)]),
              'a.jpg',
              'image/jpeg',
            ),
          ),
        fc.constant(null).map(() => upload('a picture over 5 MB', Buffer.concat([png, randomBytes(6 * 1024 * 1024)]))),
        fc.constant(null).map(() => upload('an upload over UPLOAD_LIMIT', Buffer.concat([png, Buffer.alloc(world.uploadLimit + 1024)]))),
        fc.constant(null).map(() => upload('an empty file', Buffer.alloc(0))),
      );
    }
    case 'revokeProfileAccess':
      return fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/).map((s) => ({ ...post('revoking a service never granted', { service_id: s }), token: true }));
    default:
      return undefined;
  }
}

/** Authorization headers that must never be accepted. */
function badAuthorization(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      'bearer  ',
      'Basic Zm9vOmJhcg==',
      'Token abc',
      'Bearer a b',
      `Bearer ${world.refreshToken}`,
      `Bearer ${world.token}x`,
      `Bearer ${world.token.slice(0, -1)}`,
      `Bearer ${'A'.repeat(8000)}`,
      `Bearer ${"' OR 1=1 --"}`,
      'Bearer ../../etc/passwd',
      `Bearer ${randomUUID()}`,
    ),
    // Node's client refuses control characters in headers: those never reach a server through it.
    fc
      .string({ unit: 'binary-ascii', minLength: 1, maxLength: 200 })
      .filter((s) => /^[\t\x20-\x7e]+$/.test(s))
      .map((s) => `Bearer ${s}`),
  );
}

function caseArb(op: Operation, world: World, withToken: boolean): fc.Arbitrary<FuzzCase> {
  const params = paramsOf(op);
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const token = withToken ? world.token : undefined;
  const arbs: fc.Arbitrary<FuzzCase>[] = [];
  const base = (headers: Record<string, string> = {}) => withAuth(headers, token);

  if (pathParams.length > 0) {
    arbs.push(
      fc.tuple(fc.constantFrom(...pathParams), fc.oneof(...pathParams.map(pathValueArb))).map(([param, value]) => ({
        what: `a hostile ${param.name} in the path`,
        req: { method: op.method, path: buildPath(op, { [param.name]: value }), headers: base() },
      })),
    );
  }
  // Credentials in the query string are refused on every operation.
  arbs.push(
    fc
      .tuple(fc.constantFrom('password', 'token', 'refresh_token', 'access_token', 'client_secret', 'api_key', 'new_password'), nastyString)
      .map(([k, v]) => ({
        what: `${k} in the query string`,
        req: { method: op.method, path: `${buildPath(op)}?${k}=${bounded(encodeBytes(v.slice(0, 2000)))}`, headers: base() },
      })),
  );
  for (const q of queryParams) {
    const type = Array.isArray(q.schema.type) ? q.schema.type[0] : q.schema.type;
    const values =
      type === 'integer'
        ? fc.oneof(
            fc.constantFrom('abc', '-1', '0', '101', '1e309', '1.5', '99999999999999999999', '', '1%3Bselect%201', 'NaN', 'Infinity', '%00'),
            nastyString.map((s) => bounded(encodeBytes(s.slice(0, 200)))),
          )
        : fc.oneof(
            fc.constantFrom('', '%00', 'a/b', 'a=b', 'a+b', `${'A'.repeat(600)}`, '%2e%2e%2f'),
            nastyString
              .filter((s) => !/^[A-Za-z0-9_-]*$/.test(s) || s.length > (q.schema.maxLength ?? 512))
              .map((s) => bounded(encodeBytes(s.slice(0, 3000)))),
            q.name === 'cursor' ? fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/) : fc.constant('%FF'),
          );
    arbs.push(
      values.map((v) => ({ what: `a hostile ${q.name}`, req: { method: op.method, path: `${buildPath(op)}?${q.name}=${v}`, headers: base() } })),
    );
    arbs.push(
      fc.constant({ what: `${q.name} given twice`, req: { method: op.method, path: `${buildPath(op)}?${q.name}=1&${q.name}=2`, headers: base() } }),
    );
  }
  // A security scheme with a bad credential is refused, whatever else the request carries.
  if (op.security.some((r) => Object.keys(r).length > 0) && !withToken) {
    arbs.push(
      badAuthorization(world).map((auth) => ({
        what: 'a malformed or foreign Authorization header',
        req: { method: op.method, path: buildPath(op), headers: { authorization: auth } },
      })),
    );
  }
  arbs.push(
    bodyCaseArb(op, world).map((c) => ({
      what: c.what,
      req: {
        method: op.method,
        path: buildPath(op),
        headers: base({ 'content-type': c.type, ...(c.encoding ? { 'content-encoding': c.encoding } : {}) }),
        body: c.body,
      },
    })),
  );
  const semantic = semanticCases(op, world);
  if (semantic) {
    arbs.push(
      semantic.map((c) => {
        const needsToken = (c as { token?: boolean }).token;
        return { ...c, req: { ...c.req, headers: withAuth(c.req.headers ?? {}, withToken || needsToken ? world.token : undefined) } };
      }),
    );
  }
  return fc.oneof(...arbs);
}

/** The one statement that hashes every table (its columns read once: no operation changes the schema). */
let snapshotSql: string | undefined;

async function snapshot(app: TestApp): Promise<Map<string, string>> {
  const db = app.service.deps.db;
  if (snapshotSql === undefined) {
    const columns = (await db('information_schema.columns as c')
      .join('information_schema.tables as t', function () {
        this.on('t.table_schema', 'c.table_schema').andOn('t.table_name', 'c.table_name');
      })
      .where({ 'c.table_schema': 'public', 't.table_type': 'BASE TABLE' })
      .orderBy(['c.table_name', 'c.ordinal_position'])
      .select('c.table_name as table', 'c.column_name as column')) as { table: string; column: string }[];
    const byTable = new Map<string, string[]>();
    for (const { table, column } of columns) byTable.set(table, [...(byTable.get(table) ?? []), column]);
    snapshotSql = [...byTable.keys()]
      .sort()
      .filter((table) => !WRITTEN_ON_PURPOSE[table]?.skip)
      .map((table) => {
        const rule = WRITTEN_ON_PURPOSE[table] ?? {};
        const select = byTable
          .get(table)!
          .filter((c) => !(rule.columns ?? []).includes(c))
          .map((c) => `"${c}"`)
          .join(', ');
        return `select '${table}' as name, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h, count(*) as n from (select ${select} from "${table}"${rule.where ? ` where ${rule.where}` : ''}) t`;
      })
      .join('\nunion all\n');
  }
  const { rows } = (await db.raw(snapshotSql)) as { rows: { name: string; h: string; n: string }[] };
  return new Map(rows.map((r) => [r.name, `${r.h}:${r.n}`]));
}

function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((t) => before.get(t) !== after.get(t));
}

async function outboxSettled(app: TestApp): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [{ n }] = await app.service.deps.db('outbox').where({ state: 'pending' }).count({ n: '*' });
    if (Number(n) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const app = useTestApp();
let world: World;
let secrets: string[];

test.before(async () => {
  const email = `fuzz.${randomBytes(4).toString('hex')}@example.com`;
  const handle = `fuzz_${randomBytes(4).toString('hex')}`;
  const res = await app.request('POST', '/api/v1/users/register', { json: { name: 'Fuzz Target', email, handle, password: PASSWORD } });
  if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
  world = {
    token: res.body.token,
    refreshToken: res.body.refresh_token,
    handle,
    email,
    userId: res.body.user_id,
    bodyLimit: app.config.bodyLimit,
    uploadLimit: app.config.uploadLimit,
  };
  const keyring = app.service.deps.keyring;
  secrets = [
    PASSWORD,
    world.token,
    world.refreshToken,
    app.databaseUrl,
    '$argon2id$',
    ...['oidc-cookies', 'csrf', 'outbox', 'email-index', 'email-code'].flatMap((p) => [
      keyring.derive(p).toString('base64url'),
      keyring.derive(p).toString('hex'),
    ]),
  ];
  recordSecrets('security-fuzz', ...secrets.filter((s) => s !== '$argon2id$' && s !== app.databaseUrl));
  await outboxSettled(app);
});

test('every operation refuses generated bad input with a 4xx envelope and leaves the database as it was', async (t) => {
  t.timeout(150_000);
  const before = await snapshot(app);
  let last = before;
  /** Tables each operation's refused requests changed, to name the writer when the end state differs. */
  const writers: string[] = [];
  const counts: { op: string; requests: number }[] = [];
  let total = 0;
  let fiveXx = 0;
  const failures: string[] = [];
  for (const [index, op] of spec.operations.entries()) {
    let requests = 0;
    const htmlErrors = op.path.startsWith('/interaction/');
    for (const withToken of [false, true]) {
      const property = fc.asyncProperty(caseArb(op, world, withToken), async (c) => {
        requests++;
        // Ring policy uploads are limited per account (30 per window): without a new window the YAML cases past the
        // limit would only ever see the 429.
        if (op.operationId === 'replaceRingPolicy') await app.service.deps.db('login_throttle').where('key', 'like', 'rings-import:%').del();
        const res = await send(app.url, c.req);
        if (res.status >= 500) fiveXx++;
        const problems = checkRejected(spec, op, res, secrets, { allowSuccess: c.allowSuccess && SAME_ANSWER.has(op.operationId), htmlErrors });
        if (problems.length > 0) {
          const body = c.req.body === undefined ? '' : String(c.req.body).slice(0, 160);
          throw new Error(
            `${op.operationId} (${withToken ? 'with' : 'without'} a session token), ${c.what}: ${problems.join('; ')}\n    ${c.req.method} ${c.req.path.slice(0, 200)} ${JSON.stringify(c.req.headers ?? {}).slice(0, 200)} ${body}`,
          );
        }
      });
      const out = await fc.check(property, { numRuns: RUNS, seed: SEED + index * 2 + Number(withToken), endOnFailure: true });
      if (out.failed) failures.push(String((out.errorInstance as Error | undefined)?.message ?? out.counterexample));
    }
    total += requests;
    counts.push({ op: op.operationId, requests });
    await outboxSettled(app);
    const now = await snapshot(app);
    const written = changedTables(last, now);
    if (written.length > 0) writers.push(`${op.operationId}: ${written.join(', ')}`);
    last = now;
    t.log(`${op.operationId}: ${requests} requests${written.length > 0 ? `, changed ${written.join(', ')}` : ''}`);
  }
  // Answers show no internals and the process holds no polluted prototype (the server runs in this process).
  t.deepEqual(Object.keys(Object.prototype), [], 'Object.prototype was polluted');
  t.is(({} as Record<string, unknown>).polluted, undefined);
  await outboxSettled(app);
  const changed = changedTables(before, await snapshot(app));
  t.log(`fuzz: ${spec.operations.length} operations, ${total} requests, 5xx: ${fiveXx}, tables changed: ${changed.length}, seed ${SEED}`);
  t.deepEqual(failures, [], `seed ${SEED}`);
  t.is(fiveXx, 0);
  t.deepEqual(changed, [], 'refused requests changed these tables');
  t.deepEqual(writers, [], 'the operations whose refused requests changed tables');
  // The fuzzed account still works: nothing above signed it out or changed it.
  const me = await app.request('GET', '/api/v1/auth/me', { token: world.token });
  t.is(me.status, 200);
});

// Regressions the fuzzing found, kept as plain tests so they are checked on every run whatever the seed.

test.serial('a multipart body cut short inside a file is refused, and the process lives on', async (t) => {
  const m = multipartBody([{ name: 'avatar', filename: 'a.png', type: 'image/png', data: randomBytes(4000) }]);
  const res = await send(app.url, {
    method: 'PUT',
    path: '/api/v1/profile/avatar',
    headers: { 'content-type': m.type, authorization: `Bearer ${world.token}` },
    body: m.body.subarray(0, 1500),
  });
  t.is(res.status, 400, res.text);
  t.is((res.json as { error: string }).error, 'malformed_body');
  // Registration takes no file: the part is refused at its start, naming it, before the cut is reached.
  const register = await send(app.url, {
    method: 'POST',
    path: '/api/v1/users/register',
    headers: { 'content-type': m.type },
    body: m.body.subarray(0, 1500),
  });
  t.is(register.status, 400, register.text);
  t.deepEqual(
    (register.json as { details: { path: string }[] }).details.map((d) => d.path),
    ['avatar'],
  );
  t.is((await send(app.url, { method: 'GET', path: '/healthz' })).status, 200);
});

test.serial('a ring policy nested thousands of levels deep is refused before the YAML parser sees it', async (t) => {
  // 1000 levels, then 5000: the second used to end the process with a V8 fatal error inside the YAML parser.
  for (const body of [
    `${'['.repeat(1000)}${']'.repeat(1000)}`,
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    `${'- '.repeat(5000)}x`,
    `${'{a: '.repeat(3000)}1${'}'.repeat(3000)}`,
  ]) {
    const res = await send(app.url, {
      method: 'PUT',
      path: '/api/v1/profile/privilege-rings/policy',
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${world.token}` },
      body,
    });
    t.is(res.status, 400, res.text.slice(0, 300));
    t.regex((res.json as { status: string }).status, /nests|indented/);
  }
  const alias =
    'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
  const res = await send(app.url, {
    method: 'PUT',
    path: '/api/v1/profile/privilege-rings/policy',
    headers: { 'content-type': 'application/yaml', authorization: `Bearer ${world.token}` },
    body: alias,
  });
  t.is(res.status, 400, 'an alias bomb is refused, not a 500');
  t.is((await send(app.url, { method: 'GET', path: '/healthz' })).status, 200);
});

test.serial('a NUL character where a handle goes is no such person, not a database error', async (t) => {
  for (const path of ['/api/v1/profiles/%00', '/api/v1/profiles/a%00b/avatar', '/api/v1/profiles/%00/statuses']) {
    t.is((await send(app.url, { method: 'GET', path })).status, 404, path);
  }
  const login = await send(app.url, {
    method: 'POST',
    path: '/api/v1/users/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle: 'a\u0000b', password: 'whatever it is' }),
  });
  t.true([401, 429].includes(login.status), login.text);
});

// The systematic hostile pass: its own app and account, because its requests are valid but for one string and may
// succeed (and write); the random pass above keeps its database unchanged.

interface HostileWorld {
  token: string;
  handle: string;
  email: string;
  /** Well-formed path values that name something of this account, so a request gets past "not found". */
  path: Record<string, string>;
}

/** Bodies beyond the spec's examples, so the strings also reach an e-mail change and the structured fields. */
function extraSamples(op: Operation): unknown[] {
  if (op.operationId !== 'updateProfileInfo') return [];
  return [
    {
      current_password: PASSWORD,
      updated_fields: {
        email: 'ada.moved@example.com',
        name: 'Ada Lovelace',
        emergency_contact: { name: 'Bob', phone: '+15551234567', relationship: 'brother' },
      },
    },
  ];
}

/** Operations whose success ends the session the pass uses: it signs in again after one. */
const ENDS_SESSION = new Set(['logout', 'logoutAll', 'changePassword', 'resetPassword']);

interface HostileCase {
  slot: string;
  req: RawRequest;
}

/** The form a multipart body gives a JSON sample: strings as they are, everything else as JSON text. */
function asMultipart(value: unknown): { body: Buffer; type: string } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return multipartBody(Object.entries(value).map(([name, v]) => ({ name, data: typeof v === 'string' ? v : JSON.stringify(v) })));
}

function yamlQuoted(s: string): string {
  return JSON.stringify(s);
}

/** Every hostile request of one operation: one string in one place, the rest as valid as the pass can make it. */
async function hostileCases(h: TestApp, op: Operation, hw: HostileWorld): Promise<HostileCase[]> {
  const params = paramsOf(op);
  const auth = (headers: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${hw.token}`, ...headers });
  const path = (values: Record<string, string> = {}) =>
    op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? encodeBytes(hw.path[name] ?? 'x'));
  const jsonSamples = [...(op.bodyTypes.includes('application/json') ? [bodyExample(op, 'application/json')] : []), ...extraSamples(op)].filter(
    (v) => v !== undefined,
  );
  const validBody = (): Pick<RawRequest, 'body' | 'headers'> => {
    if (jsonSamples.length > 0) return { body: JSON.stringify(jsonSamples[0]), headers: { 'content-type': 'application/json' } };
    if (op.bodyTypes.includes('application/yaml')) return { body: 'version: 1\n', headers: { 'content-type': 'application/yaml' } };
    return {};
  };
  const out: HostileCase[] = [];
  const all = [...HOSTILE_BASE, ...HOSTILE_ENCODED];

  for (const p of params.filter((x) => x.in === 'path')) {
    const sample = hw.path[p.name] ?? 'x';
    const values = [...all, ...HOSTILE_BASE.map((x) => spliced(sample, x))];
    for (const v of values)
      out.push({
        slot: `path ${p.name}`,
        req: { method: op.method, path: path({ [p.name]: bounded(encodeBytes(v)) }), headers: auth(), ...validBody() },
      });
  }
  for (const q of params.filter((x) => x.in === 'query')) {
    const values = [...all];
    if (q.name === 'cursor') {
      // A cursor the list really issued, to fuzz inside its encoding.
      const first = await send(h.url, { method: 'GET', path: `${path()}?limit=1`, headers: auth() });
      const issued = (first.json as { next_cursor?: string | null } | undefined)?.next_cursor;
      if (typeof issued === 'string') values.push(...encodedCursors(issued, [...HOSTILE_BASE, ...HOSTILE_ENCODED]));
    }
    for (const v of values)
      out.push({ slot: `query ${q.name}`, req: { method: op.method, path: `${path()}?${q.name}=${bounded(encodeBytes(v))}`, headers: auth() } });
  }
  const headerNames = ['x-request-id', 'origin', 'cookie', ...params.filter((x) => x.in === 'header').map((x) => x.name.toLowerCase())];
  for (const name of new Set(headerNames)) {
    for (const v of HOSTILE_HEADERS) {
      const body = validBody();
      out.push({ slot: `header ${name}`, req: { method: op.method, path: path(), ...body, headers: auth({ ...body.headers, [name]: v }) } });
    }
  }
  if (op.security.some((r) => Object.keys(r).length > 0)) {
    for (const v of HOSTILE_HEADERS)
      out.push({
        slot: 'header authorization',
        req: { method: op.method, path: path(), ...validBody(), headers: { ...validBody().headers, authorization: `Bearer ${v}` } },
      });
  }
  for (const sample of jsonSamples) {
    for (const slot of slotsOf(sample as never)) {
      const name = `body ${slot.kind === 'key' ? 'key in ' : ''}${slot.at.join('.') || '(root)'}`;
      const variants =
        slot.kind === 'key'
          ? HOSTILE_BASE.map((x) => ({ x, splice: false }))
          : [...all.map((x) => ({ x, splice: false })), ...HOSTILE_BASE.map((x) => ({ x, splice: true }))];
      for (const { x, splice } of variants) {
        const base = fresh(op, sample);
        const v = splice ? spliced(String(valueAt(base, slot.at)), x) : x;
        const mutated = withHostile(base as never, slot, v);
        out.push({
          slot: name,
          req: { method: op.method, path: path(), headers: auth({ 'content-type': 'application/json' }), body: JSON.stringify(mutated) },
        });
        // The same in multipart fields, where the operation takes them (nested values as JSON text), without the encoded strings.
        const m = op.bodyTypes.includes('multipart/form-data') && !HOSTILE_ENCODED.includes(x) ? asMultipart(mutated) : undefined;
        if (m)
          out.push({ slot: `multipart ${name}`, req: { method: op.method, path: path(), headers: auth({ 'content-type': m.type }), body: m.body } });
      }
    }
  }
  if (op.bodyTypes.includes('application/yaml')) {
    const files = (v: string) => [
      `version: 1\nplacements:\n  ${yamlQuoted(v)}: public\n`,
      `version: 1\nplacements:\n  bio: ${yamlQuoted(v)}\n`,
      `version: 1\ncustom_rings:\n  - name: ${yamlQuoted(v)}\n    fields: [bio, ${yamlQuoted(v)}]\n    roles: [${yamlQuoted(v)}]\n    services: [${yamlQuoted(v)}]\n`,
    ];
    for (const v of all)
      for (const body of files(v))
        out.push({ slot: 'yaml body', req: { method: op.method, path: path(), headers: auth({ 'content-type': 'application/yaml' }), body } });
  }
  return out;
}

/**
 * A sample with a new e-mail address and handle where the operation makes an account: with the example's, every
 * registration after the first stops at "the handle exists!" before the fuzzed string is stored.
 */
function fresh(op: Operation, sample: unknown): unknown {
  if (op.operationId !== 'registerUser' || sample === null || typeof sample !== 'object') return structuredClone(sample);
  const tag = randomBytes(4).toString('hex');
  return { ...structuredClone(sample), email: `h${tag}@example.com`, handle: `h${tag}` };
}

function valueAt(value: unknown, at: JsonPath): unknown {
  return at.reduce<unknown>((node, seg) => (node as Record<string | number, unknown>)?.[seg], value);
}

function bodyExample(op: Operation, mediaType: string): unknown {
  const body = deref(op.raw.requestBody as Schema | undefined);
  return structuredClone(body.content?.[mediaType]?.example);
}

test.serial(
  'the hostile pass: every string an operation takes gets NUL, controls, prototype names, huge numbers, lone surrogates and their base64, and nothing answers 5xx',
  async (t) => {
    t.timeout(900_000);
    const h = await startTestApp({ name: 'security-fuzz-hostile' });
    try {
      const register = async (handle: string) => {
        const email = `${handle}@example.com`;
        const res = await h.request('POST', '/api/v1/users/register', { json: { name: 'Hostile Target', email, handle, password: PASSWORD } });
        if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
        return { token: res.body.token as string, userId: res.body.user_id as string, email };
      };
      const me = await register(`hostile_${randomBytes(3).toString('hex')}`);
      // Two more listed people and two posts, so every list has a next page and its cursor can be fuzzed.
      await register(`hostile_b${randomBytes(3).toString('hex')}`);
      await register(`hostile_c${randomBytes(3).toString('hex')}`);
      await h.service.deps.db('users').where({ id: me.userId }).update({ is_operator: true });
      const handle = (await h.request('GET', '/api/v1/auth/me', { token: me.token })).body.handle as string;
      const status = await h.request('POST', '/api/v1/profile/statuses', { token: me.token, json: { content: 'one' } });
      await h.request('POST', '/api/v1/profile/statuses', { token: me.token, json: { content: 'two' } });
      const ring = await h.request('POST', '/api/v1/profile/privilege-rings', {
        token: me.token,
        json: { ring_name: 'Hostile ring', assigned_data: { fields: ['bio'] } },
      });
      const services: string[] = [];
      for (const name of ['Hostile one', 'Hostile two']) {
        const res = await h.request('POST', '/api/v1/admin/services', {
          token: me.token,
          json: { name, role: 'commercial', redirect_uris: ['https://hostile.example/cb'] },
        });
        services.push(res.body.client_id);
      }
      const hw: HostileWorld = {
        token: me.token,
        handle,
        email: me.email,
        path: {
          handle,
          status_id: status.body.post.status_id,
          ring_id: ring.body.ring_id,
          client_id: services[0],
          uid: randomBytes(16).toString('base64url'),
          asset: 'init.js',
        },
      };
      const signIn = async () => {
        const res = await h.request('POST', '/api/v1/users/login', { json: { email: hw.email, password: PASSWORD } });
        if (res.status !== 200) throw new Error(`login failed: ${res.text}`);
        hw.token = res.body.token;
      };
      const secretsHere = [PASSWORD, '$argon2id$', h.databaseUrl];
      const failures = new Map<string, { count: number; example: string }>();
      let total = 0;
      let fiveXx = 0;
      for (const op of spec.operations) {
        const cases = await hostileCases(h, op, hw);
        const bySlot = new Map<string, number>();
        const one = async (c: (typeof cases)[number]) => {
          let res = await send(h.url, c.req);
          if (res.status === 429) {
            // Throttles would hide the handler from the rest of the pass: start their windows again, and retry once.
            await h.service.deps.db('login_throttle').del();
            res = await send(h.url, c.req);
          }
          bySlot.set(c.slot, (bySlot.get(c.slot) ?? 0) + 1);
          if (res.status >= 500) fiveXx++;
          const problems = checkRejected(spec, op, res, secretsHere, { allowSuccess: true, htmlErrors: op.path.startsWith('/interaction/') }).filter(
            (p) => !(res.status >= 300 && res.status < 400 && /not a 4xx/.test(p)),
          );
          if (problems.length > 0) {
            // One example per operation and place, with how many strings failed there.
            const key = `${op.operationId}, ${c.slot}`;
            const seen = failures.get(key);
            if (seen) seen.count++;
            else
              failures.set(key, {
                count: 1,
                example: `${problems.join('; ')}\n    ${c.req.method} ${c.req.path.slice(0, 160)} ${JSON.stringify(String(c.req.body ?? '').slice(0, 160))}`,
              });
          }
          if (ENDS_SESSION.has(op.operationId) && res.status < 300) await signIn();
        };
        // A few at a time (the pass is bound by round trips, not CPU), one by one where a case may end the session.
        const width = ENDS_SESSION.has(op.operationId) ? 1 : 4;
        for (let i = 0; i < cases.length; i += width) await Promise.all(cases.slice(i, i + width).map(one));
        total += cases.length;
        t.log(
          `${op.operationId}: ${cases.length} hostile strings (${[...bySlot].map(([slot, n]) => `${slot} ${n}`).join(', ') || 'no string inputs'})`,
        );
      }
      t.log(`hostile pass: ${spec.operations.length} operations, ${total} hostile strings sent, 5xx: ${fiveXx}`);
      t.deepEqual(
        [...failures].map(([key, f]) => `${key} (${f.count} strings): ${f.example}`),
        [],
      );
      t.is(fiveXx, 0);
      t.deepEqual(Object.keys(Object.prototype), [], 'Object.prototype was polluted');
    } finally {
      await h.close();
    }
  },
);
