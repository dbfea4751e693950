import { request as httpRequest, type IncomingMessage } from 'node:http';
import test from 'ava';
import sharp from 'sharp';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, register } from '../accounts/fixtures.ts';
import { jpegWithExif, METADATA_MARKER, png, pngWithText, upload, webp } from './fixtures.ts';

const app = useTestApp();

const AVATAR = '/api/v1/profile/avatar';

async function download(url: string, token?: string): Promise<{ status: number; type: string | null; data: Buffer }> {
  const path = new URL(url).pathname + new URL(url).search;
  const res = await fetch(app.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), data: Buffer.from(await res.arrayBuffer()) };
}

test('a JPEG with EXIF and XMP is stored re-encoded, without any of its metadata', async (t) => {
  const session = await register(app);
  const original = await jpegWithExif();
  const res = await app.request('PUT', AVATAR, { token: session.token, multipart: upload(original, 'me.jpg', 'image/jpeg') });
  t.is(res.status, 200, res.text);
  t.like(res.body.avatar, { content_type: 'image/jpeg', width: 80, height: 60 });
  t.is(res.body.version, 2);
  const got = await download(res.body.avatar.url);
  t.is(got.status, 200);
  t.is(got.type, 'image/jpeg');
  t.false(got.data.includes(METADATA_MARKER), 'the marker is gone');
  const meta = await sharp(got.data).metadata();
  t.is(meta.exif, undefined);
  t.is(meta.xmp, undefined);
  t.is(meta.format, 'jpeg');
  // Sealed at rest too.
  const row = await app.service.deps.db('avatars').where({ profile_id: session.profile_id }).first();
  t.false(Buffer.from(row.image).includes(got.data.subarray(200, 260)));
});

test('a PNG loses its text chunks; a WebP is accepted', async (t) => {
  const session = await register(app);
  const res = await app.request('PUT', AVATAR, { token: session.token, multipart: upload(await pngWithText(), 'me.png', 'image/png') });
  t.is(res.status, 200, res.text);
  const got = await download(res.body.avatar.url);
  t.is(got.type, 'image/png');
  t.false(got.data.includes(METADATA_MARKER));
  const w = await app.request('PUT', AVATAR, { token: session.token, multipart: upload(await webp(), 'me.webp', 'image/webp') });
  t.is(w.status, 200, w.text);
  t.is(w.body.avatar.content_type, 'image/webp');
  t.is(w.body.version, 3);
  t.is((await download(w.body.avatar.url)).type, 'image/webp');
});

test('a large picture is scaled down to 1024 px a side', async (t) => {
  const session = await register(app);
  const res = await app.request('PUT', AVATAR, { token: session.token, multipart: upload(await png(2400, 1200), 'big.png', 'image/png') });
  t.is(res.status, 200, res.text);
  t.like(res.body.avatar, { width: 1024, height: 512 });
});

test.serial('the content decides, not the name or the declared type: a GIF or text named .png is refused, writing nothing', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['avatars', 'profile_fields', 'audit_events']);
  const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'blue' } })
    .gif()
    .toBuffer();
  assertError(
    t,
    await app.request('PUT', AVATAR, { token: session.token, multipart: upload(gif, 'me.png', 'image/png') }),
    400,
    'unsupported_image',
    /PNG, JPEG or WebP/,
  );
  assertError(
    t,
    await app.request('PUT', AVATAR, { token: session.token, multipart: upload(Buffer.from('<svg/>'), 'me.png', 'image/png') }),
    400,
    'unsupported_image',
  );
  t.deepEqual(await countRows(app, ['avatars', 'profile_fields', 'audit_events']), before);
});

test.serial('a damaged image with the right magic bytes is refused', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['avatars']);
  const truncated = (await png(200, 200)).subarray(0, 60);
  assertError(
    t,
    await app.request('PUT', AVATAR, { token: session.token, multipart: upload(truncated, 'me.png', 'image/png') }),
    400,
    'invalid_image',
    /could not be decoded/,
  );
  t.deepEqual(await countRows(app, ['avatars']), before);
});

test.serial('a picture over 5 MB is refused with 413', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['avatars']);
  const big = Buffer.concat([await png(), Buffer.alloc(5 * 1024 * 1024)]);
  assertError(
    t,
    await app.request('PUT', AVATAR, { token: session.token, multipart: upload(big, 'me.png', 'image/png') }),
    413,
    'payload_too_large',
    /at most 5 MB/,
  );
  t.deepEqual(await countRows(app, ['avatars']), before);
});

test('the file is required, and so is a token', async (t) => {
  const session = await register(app);
  const fd = new FormData();
  fd.append('note', 'no file');
  assertError(t, await app.request('PUT', AVATAR, { token: session.token, multipart: fd }), 400, 'validation_failed');
  const onlyToken = new FormData();
  onlyToken.append('token', session.token);
  assertError(t, await app.request('PUT', AVATAR, { multipart: onlyToken }), 400, 'validation_failed', /avatar is required/);
  assertError(
    t,
    await app.request('PUT', AVATAR, { multipart: upload(await png(), 'me.png', 'image/png') }),
    401,
    'token_missing',
    'token must exist!',
  );
  // Seed clients: the token as a form field.
  const res = await app.request('PUT', AVATAR, { multipart: upload(await png(), 'me.png', 'image/png', 'avatar', { token: session.token }) });
  t.is(res.status, 200, res.text);
});

/**
 * Starts a multipart upload that never ends: the headers, `fields`, then the start of a file part under `fileField`
 * and a first chunk of it, and no more. The answer, when the server gives one before the body is read, with the
 * status, headers and parsed envelope; 'no answer' if none came while the body was still unsent (the guard is
 * generous, and only a missing answer ever hits it).
 */
async function unfinishedUpload(opts: {
  fileField?: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
  contentLength?: number;
}) {
  const boundary = 'ringfence-test-boundary';
  const url = new URL(app.url + AVATAR);
  const head = [
    ...Object.entries(opts.fields ?? {}).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    `--${boundary}\r\nContent-Disposition: form-data; name="${opts.fileField ?? 'avatar'}"; filename="me.png"\r\nContent-Type: image/png\r\n\r\n`,
  ].join('');
  const req = httpRequest({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'PUT',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(opts.contentLength ?? 4 * 1024 * 1024),
      ...opts.headers,
    },
  });
  req.on('error', () => undefined); // the server may close the connection with the body still unsent
  const answer = new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
  req.write(head);
  req.write(Buffer.alloc(64 * 1024, 1));
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'no answer'>((resolve) => (timer = setTimeout(() => resolve('no answer'), 20_000)));
  const res = await Promise.race([answer, guard]);
  clearTimeout(timer);
  if (res === 'no answer') {
    req.destroy();
    return res;
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  req.destroy();
  return { status: res.statusCode, connection: res.headers.connection, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
}

test('an upload without a credential is refused before its file is read', async (t) => {
  const none = await unfinishedUpload({});
  if (none === 'no answer') return t.fail('the server waited for the file of an unauthenticated upload');
  assertError(t, none, 401, 'token_missing');
  t.is(none.connection, 'close', 'the rest of the body is not read');
  const bad = await unfinishedUpload({ headers: { authorization: 'Bearer invented' } });
  if (bad === 'no answer') return t.fail('the server waited for the file of an upload with a bad token');
  assertError(t, bad, 401, 'invalid_token');
  const badField = await unfinishedUpload({ fields: { token: 'invented' } });
  if (badField === 'no answer') return t.fail('the server waited for the file of an upload with a bad token field');
  t.is(badField.status, 401);
});

test('a file under a name the operation does not declare is refused at its start, naming it', async (t) => {
  const session = await register(app);
  const res = await unfinishedUpload({ fileField: 'payload', headers: { authorization: `Bearer ${session.token}` } });
  if (res === 'no answer') return t.fail('the server read a file the operation does not take');
  assertError(t, res, 400, 'validation_failed', /payload is not a file field of this operation: send the file as avatar/);
  t.deepEqual(
    res.body.details.map((d: { path: string }) => d.path),
    ['payload'],
  );
});

test('the whole multipart body is capped: a Content-Length over the limit is refused unread, and so are many files', async (t) => {
  const session = await register(app);
  const declared = await unfinishedUpload({ headers: { authorization: `Bearer ${session.token}` }, contentLength: app.config.uploadLimit + 1 });
  if (declared === 'no answer') return t.fail('the server read a body declared larger than the upload limit');
  assertError(t, declared, 413, 'payload_too_large');
  // Three files under the declared name, each under the limit, together over it.
  const each = Buffer.alloc(Math.ceil(app.config.uploadLimit / 3) + 1024, 2);
  const fd = new FormData();
  for (let i = 0; i < 3; i++) fd.append('avatar', new Blob([new Uint8Array(each)], { type: 'image/png' }), `part${i}.png`);
  assertError(
    t,
    await app.request('PUT', AVATAR, { token: session.token, multipart: fd }),
    413,
    'payload_too_large',
    /multipart body is larger than/,
  );
  t.is(await app.service.deps.db('avatars').where({ profile_id: session.profile_id }).first(), undefined);
});
