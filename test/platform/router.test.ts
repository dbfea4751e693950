/**
 * The spec-driven router, exercised through a small fixture spec so every rule (validation, content types, limits,
 * security, 404/405, start-up checks) is tested on its own, against a real database.
 */
import test from 'ava';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { pino } from 'pino';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { Keyring } from '../../src/crypto/envelope.ts';
import { Unauthenticated } from '../../src/errors.ts';
import { OpenApi, type OpenApiDocument } from '../../src/http/openapi.ts';
import { assertSpecMatchesHandlers, SpecMismatch } from '../../src/http/router.ts';
import type { AppDeps, Handler, SecurityResolver } from '../../src/deps.ts';
import { Outbox } from '../../src/notify/outbox.ts';
import { openStore, withTransaction, type Store } from '../../src/store/db.ts';
import { createDatabase } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';

const doc = YAML.parse(readFileSync(new URL('./fixtures/mini-spec.yaml', import.meta.url), 'utf8')) as OpenApiDocument;
const spec = new OpenApi(doc);

const handlers: Record<string, Handler> = {
  createNote: async ({ body, files }, { db }) => {
    const id = randomUUID();
    await withTransaction(db, async (trx) => {
      await trx('notes').insert({ id, title: body.title });
      if (body.title === 'explode') throw new Error('internal detail that must not leak');
    });
    return { id, ...(files.attachment ? { bytes: files.attachment.data.length } : {}) };
  },
  getNote: async ({ params, query, caller }) => ({
    id: params.id,
    caller: caller.kind,
    limit: (query.limit as number | undefined) ?? 20,
  }),
};

const resolvers: Record<string, SecurityResolver> = {
  testToken: async (ctx) => {
    const header = ctx.get('authorization');
    if (!header) return undefined;
    if (header === 'Bearer expired') throw new Unauthenticated('token has expired!', { code: 'token_expired' });
    if (header !== 'Bearer good') throw new Unauthenticated('token is not valid');
    return { caller: { kind: 'user', userId: 'u1', sessionId: 's1', expiresAt: new Date(Date.now() + 60_000) }, credential: 'good' };
  },
};

let server: Server;
let base: string;
let store: Store;
let drop: () => Promise<void>;

test.before(async () => {
  const database = await createDatabase();
  drop = database.drop;
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, LOG_LEVEL: 'silent', BODY_LIMIT: '2048', UPLOAD_LIMIT: '4096' });
  store = await openStore(config);
  await store.db.schema.createTable('notes', (t) => {
    t.uuid('id').primary();
    t.text('title').notNullable();
  });
  const keyring = new Keyring(randomBytes(32));
  const deps = {
    config,
    db: store.db,
    storeKind: store.kind,
    keyring,
    outbox: new Outbox(keyring),
    logger: pino({ level: 'silent' }),
  } as unknown as AppDeps; // the router needs no policy engine or provider
  server = createApp(deps, { handlers, resolvers, spec }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

test.after.always(async () => {
  server?.close();
  await store?.close();
  await drop?.();
});

async function call(method: string, path: string, init: { body?: BodyInit; type?: string; auth?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.type) headers['content-type'] = init.type;
  if (init.auth) headers.authorization = init.auth;
  const res = await fetch(base + path, { method, headers, body: init.body });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  const op = spec.findOperation(method, path.split('?')[0]);
  if (op) {
    const problems = spec.validateResponse(op, res.status, res.headers.get('content-type') ?? '', body);
    if (problems.length) throw new Error(problems.join('; '));
  }
  return { status: res.status, headers: res.headers, body };
}

const count = async () => Number((await store.db('notes').count({ n: '*' }))[0].n);
const json = (v: unknown) => ({ body: JSON.stringify(v), type: 'application/json', auth: 'Bearer good' });

test.serial('a valid JSON body is handled and answers the spec success status', async (t) => {
  const res = await call('POST', '/notes', json({ title: 'hello', priority: 2 }));
  t.is(res.status, 201);
  t.is(res.body.status, 'success');
  t.truthy(await store.db('notes').where({ id: res.body.id }).first());
});

test.serial('a body breaking the schema gets 400 naming each field and rule, and writes nothing', async (t) => {
  const before = await count();
  const res = await call('POST', '/notes', json({ title: 'x'.repeat(21), priority: 9, email: 'not-an-email', extra: 1 }));
  assertError(t, res, 400, 'validation_failed');
  const byPath = Object.fromEntries(res.body.details.map((d: { path: string; message: string }) => [d.path, d.message]));
  t.regex(byPath.title, /must NOT have more than 20 characters/);
  t.regex(byPath.priority, /must be <= 5/);
  t.regex(byPath.email, /must match format "email"/);
  t.is(byPath.extra, 'is not a known field');
  t.regex(res.body.status, /title/);
  t.is(await count(), before);
});

test.serial('a missing required field is named', async (t) => {
  const res = await call('POST', '/notes', json({ priority: 1 }));
  t.is(res.status, 400);
  t.deepEqual(res.body.details, [{ path: 'title', message: 'is required' }]);
});

test.serial('malformed JSON gets 400 that says to check the syntax', async (t) => {
  const res = await call('POST', '/notes', { body: '{"title": ', type: 'application/json', auth: 'Bearer good' });
  assertError(t, res, 400, 'malformed_body');
});

test.serial('a JSON array body is refused', async (t) => {
  const res = await call('POST', '/notes', { body: '[1,2]', type: 'application/json', auth: 'Bearer good' });
  t.is(res.status, 400);
});

test.serial('urlencoded values are coerced to the schema types', async (t) => {
  const res = await call('POST', '/notes', {
    body: new URLSearchParams({ title: 'form', priority: '3' }).toString(),
    type: 'application/x-www-form-urlencoded',
    auth: 'Bearer good',
  });
  t.is(res.status, 201);
  const bad = await call('POST', '/notes', {
    body: new URLSearchParams({ title: 'form', priority: 'high' }).toString(),
    type: 'application/x-www-form-urlencoded',
    auth: 'Bearer good',
  });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].path, 'priority');
});

test.serial('multipart bodies carry files to the handler; a missing file is named', async (t) => {
  const form = new FormData();
  form.set('title', 'with file');
  form.set('attachment', new Blob([Buffer.alloc(1000, 7)], { type: 'application/octet-stream' }), 'a.bin');
  const res = await fetch(`${base}/notes`, { method: 'POST', body: form, headers: { authorization: 'Bearer good' } });
  const body = await res.json();
  t.is(res.status, 201);
  t.is(body.bytes, 1000);

  const noFile = new FormData();
  noFile.set('title', 'no file');
  const res2 = await fetch(`${base}/notes`, { method: 'POST', body: noFile, headers: { authorization: 'Bearer good' } });
  t.is(res2.status, 400);
  t.deepEqual((await res2.json()).details, [{ path: 'attachment', message: 'is required' }]);
});

test.serial('bodies and uploads over their limits get 413 and write nothing', async (t) => {
  const before = await count();
  const big = await call('POST', '/notes', json({ title: 'x', pad: 'y'.repeat(5000) }));
  t.is(big.status, 413);
  const form = new FormData();
  form.set('title', 'big file');
  form.set('attachment', new Blob([Buffer.alloc(10_000)]), 'big.bin');
  const res = await fetch(`${base}/notes`, { method: 'POST', body: form, headers: { authorization: 'Bearer good' } });
  t.is(res.status, 413);
  t.is((await res.json()).error, 'payload_too_large');
  t.is(await count(), before);
});

test.serial('a content type the operation does not accept gets 415 listing the accepted ones', async (t) => {
  const res = await call('POST', '/notes', { body: 'title=x', type: 'text/plain', auth: 'Bearer good' });
  assertError(t, res, 415, undefined, /application\/json/);
});

test.serial('a missing body on an operation that requires one is named', async (t) => {
  const res = await call('POST', '/notes', { auth: 'Bearer good' });
  t.is(res.status, 400);
  t.is(res.body.details[0].path, 'body');
});

test.serial('security: no credential → token must exist!, expired → token has expired!', async (t) => {
  const none = await call('POST', '/notes', { body: JSON.stringify({ title: 'a' }), type: 'application/json' });
  assertError(t, none, 401, undefined, 'token must exist!');
  t.is(none.headers.get('www-authenticate'), 'Bearer');
  const expired = await call('POST', '/notes', { ...json({ title: 'a' }), auth: 'Bearer expired' });
  assertError(t, expired, 401, undefined, 'token has expired!');
});

test.serial('optional security lets an anonymous caller through and resolves a given credential', async (t) => {
  const id = randomUUID();
  const anon = await call('GET', `/notes/${id}`);
  t.is(anon.body.caller, 'anonymous');
  const user = await call('GET', `/notes/${id}?limit=5`, { auth: 'Bearer good' });
  t.is(user.body.caller, 'user');
  t.is(user.body.limit, 5);
});

test.serial('path and query parameters are validated and coerced', async (t) => {
  const badId = await call('GET', '/notes/not-a-uuid');
  t.is(badId.status, 400);
  t.is(badId.body.details[0].path, 'id');
  const badLimit = await call('GET', `/notes/${randomUUID()}?limit=1000`);
  t.is(badLimit.status, 400);
  t.is(badLimit.body.details[0].path, 'limit');
});

test.serial('a password or token in the query string is refused before anything runs', async (t) => {
  for (const key of ['password', 'token', 'access_token', 'refresh_token']) {
    const res = await call('GET', `/notes/${randomUUID()}?${key}=secret`);
    assertError(t, res, 400, 'credential_in_query', /body|Authorization header/);
  }
});

test.serial('a wrong method gets 405 with Allow and the path message; an unknown path 404', async (t) => {
  const wrong = await call('GET', '/notes');
  assertError(t, wrong, 405, undefined, 'post required');
  t.is(wrong.headers.get('allow'), 'POST');
  const missing = await call('GET', '/nothing/here');
  assertError(t, missing, 404, 'not_found');
});

test.serial('an unexpected failure answers a generic 500 without internals, and its transaction wrote nothing', async (t) => {
  const before = await count();
  const res = await call('POST', '/notes', json({ title: 'explode' }));
  assertError(t, res, 500, 'server_error');
  t.notRegex(JSON.stringify(res.body), /internal detail|at .*\.ts/);
  t.is(await count(), before);
});

test('start-up refuses a spec operation without a handler, a handler without an operation, and an unresolved scheme', (t) => {
  const err = t.throws(() => assertSpecMatchesHandlers(spec, { getNote: handlers.getNote, orphan: handlers.getNote }, {}), {
    instanceOf: SpecMismatch,
  });
  t.regex(err!.message, /operation createNote \(POST \/notes\) has no handler/);
  t.regex(err!.message, /handler orphan has no operation/);
  t.regex(err!.message, /security scheme testToken, which has no resolver/);
});

test('every request validator of openapi.yaml compiles; one that cannot stops compileAll, naming the operation', (t) => {
  t.notThrows(() => OpenApi.load().compileAll());
  const broken = structuredClone(doc);
  (broken.paths['/notes'].post as { requestBody: { content: Record<string, { schema: unknown }> } }).requestBody.content['application/json'].schema =
    { type: 'object', properties: { title: { $ref: '#/components/schemas/Missing' } } };
  const lazy = new OpenApi(broken);
  const err = t.throws(() => lazy.compileAll());
  t.regex(err!.message, /openapi\.yaml: createNote body \(application\/json\)/);
});

test('a spec is read from its parsed copy when its text is unchanged, parsed anew when it changed or the copy is damaged', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rf-spec-'));
  const cacheDir = new URL('../../node_modules/.cache/ringfence/', import.meta.url).pathname;
  const copyOf = (text: string) => path.join(cacheDir, `openapi-${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`);
  const source = readFileSync(new URL('./fixtures/mini-spec.yaml', import.meta.url), 'utf8');
  const firstText = `${source}\n# ${randomUUID()}\n`;
  const first = path.join(dir, 'first.yaml');
  writeFileSync(first, firstText);
  t.deepEqual(
    OpenApi.load(first).operations.map((op) => op.operationId),
    ['createNote', 'getNote'],
  );
  t.true(existsSync(copyOf(firstText)), 'the parse is kept, named by the hash of the text');
  // Another text is another copy: an operation renamed in the YAML is what the next process sees.
  const secondText = `${source.replace('operationId: getNote', 'operationId: readNote')}\n# ${randomUUID()}\n`;
  const second = path.join(dir, 'second.yaml');
  writeFileSync(second, secondText);
  t.deepEqual(
    OpenApi.load(second).operations.map((op) => op.operationId),
    ['createNote', 'readNote'],
  );
  t.false(existsSync(copyOf(firstText)), 'only the newest parsed copy is kept');
  // A damaged copy is not trusted to be JSON: the YAML is parsed again.
  writeFileSync(copyOf(secondText), '{"openapi": "3.1.0", "paths": ');
  const third = path.join(dir, 'third.yaml');
  writeFileSync(third, secondText);
  t.deepEqual(
    OpenApi.load(third).operations.map((op) => op.operationId),
    ['createNote', 'readNote'],
  );
  rmSync(dir, { recursive: true, force: true });
});
