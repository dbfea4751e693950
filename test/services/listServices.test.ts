// Listing the registry: operators only, paginated with an opaque cursor, never a secret.
import test from 'ava';
import { type TestResponse, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { makeOperator } from './fixtures.ts';

const app = useTestApp();
let operator: Awaited<ReturnType<typeof register>>;
const registered: { client_id: string; client_secret: string }[] = [];
test.before(async () => {
  operator = await register(app);
  await makeOperator(app, operator);
  for (let i = 0; i < 5; i++) {
    const res = await app.request('POST', '/api/v1/admin/services', {
      token: operator.token,
      json: { name: `Service ${i}`, role: i % 2 ? 'commercial' : 'healthcare', redirect_uris: [`https://s${i}.example/cb`] },
    });
    if (res.status !== 201) throw new Error(res.text);
    registered.push(res.body);
  }
});

test('pages of two walk the whole registry once, each page naming the next by cursor', async (t) => {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: TestResponse = await app.request('GET', `/api/v1/admin/services?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
      token: operator.token,
    });
    t.is(res.status, 200, res.text);
    t.true(res.body.services.length <= 2);
    for (const s of res.body.services) {
      seen.push(s.client_id);
      t.false('client_secret' in s);
    }
    cursor = res.body.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  t.is(pages, 3);
  t.deepEqual(seen, registered.map((s) => s.client_id).sort(), 'every service once, in client_id order');
  const text = JSON.stringify(await app.request('GET', '/api/v1/admin/services?limit=100', { token: operator.token }));
  for (const s of registered) t.false(text.includes(s.client_secret), 'no secret in any listing');
});

test('the default page holds everything here, with next_cursor null', async (t) => {
  const res = await app.request('GET', '/api/v1/admin/services', { token: operator.token });
  t.is(res.status, 200);
  t.is(res.body.services.length, 5);
  t.is(res.body.next_cursor, null);
  t.like(
    res.body.services.find((s: { name: string }) => s.name === 'Service 1'),
    { role: 'commercial', disabled_at: null },
  );
});

test('a cursor this API never gave out, or a bad limit, is refused with 400', async (t) => {
  assertError(
    t,
    await app.request('GET', '/api/v1/admin/services?cursor=bm90LWEtY3Vyc29y', { token: operator.token }),
    400,
    'invalid_cursor',
    /cursor/,
  );
  for (const after of ['svc_a\u0000', 'svc_\u0000', `svc_${'a'.repeat(600)}`]) {
    const res = await app.request('GET', `/api/v1/admin/services?cursor=${Buffer.from(after).toString('base64url').slice(0, 512)}`, {
      token: operator.token,
    });
    assertError(t, res, 400, 'invalid_cursor', /cursor/);
  }
  assertError(t, await app.request('GET', '/api/v1/admin/services?cursor=a%20b', { token: operator.token }), 400, 'validation_failed');
  assertError(t, await app.request('GET', '/api/v1/admin/services?limit=0', { token: operator.token }), 400, 'validation_failed');
  assertError(t, await app.request('GET', '/api/v1/admin/services?limit=101', { token: operator.token }), 400, 'validation_failed');
});

test('a user who is not an operator gets 403, and no token gets 401', async (t) => {
  const someone = await register(app);
  assertError(t, await app.request('GET', '/api/v1/admin/services', { token: someone.token }), 403, 'not_an_operator');
  assertError(t, await app.request('GET', '/api/v1/admin/services'), 401, undefined, 'token must exist!');
});
