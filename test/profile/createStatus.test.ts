import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, register } from '../accounts/fixtures.ts';

const app = useTestApp();

const STATUSES = '/api/v1/profile/statuses';

test('posting a status answers 201 with the post, public by default, sealed at rest', async (t) => {
  const session = await register(app);
  const res = await app.request('POST', STATUSES, { token: session.token, json: { content: '  Hello, this is my first status!  ' } });
  t.is(res.status, 201, res.text);
  t.like(res.body.post, { content: 'Hello, this is my first status!', ring: 'public' });
  t.regex(res.body.post.status_id, /^[0-9a-f-]{36}$/);
  const row = await app.service.deps.db('status_posts').where({ id: res.body.post.status_id }).first();
  t.false(Buffer.from(row.content).toString('latin1').includes('first status'));
  const private_ = await app.request('POST', STATUSES, { form: { token: session.token, content: 'Just friends', ring: 'semi-private' } });
  t.is(private_.status, 201, private_.text);
  t.is(private_.body.post.ring, 'semi-private');
});

test.serial('empty, too long or unknown-ring posts are refused, writing nothing', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['status_posts']);
  assertError(
    t,
    await app.request('POST', STATUSES, { token: session.token, json: { content: '   ' } }),
    400,
    'validation_failed',
    /content is empty/,
  );
  assertError(
    t,
    await app.request('POST', STATUSES, { token: session.token, json: { content: 'x'.repeat(501) } }),
    400,
    'validation_failed',
    /at most 500 characters/,
  );
  assertError(
    t,
    await app.request('POST', STATUSES, { token: session.token, json: { content: 'hi', ring: 'friends' } }),
    400,
    'validation_failed',
    /ring must be one of public, semi-private, private, restricted/,
  );
  assertError(t, await app.request('POST', STATUSES, { token: session.token, json: {} }), 400, 'validation_failed', /content is required/);
  t.deepEqual(await countRows(app, ['status_posts']), before);
});

test('posting needs a token', async (t) => {
  assertError(t, await app.request('POST', STATUSES, { json: { content: 'hi' } }), 401, 'token_missing', 'token must exist!');
});
