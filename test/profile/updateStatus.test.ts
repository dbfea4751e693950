import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

async function post(token: string, content = 'first words') {
  const res = await app.request('POST', '/api/v1/profile/statuses', { token, json: { content } });
  return res.body.post as { status_id: string; created_at: string };
}

test('the owner edits the content and the ring of a post', async (t) => {
  const session = await register(app);
  const p = await post(session.token);
  const res = await app.request('PUT', `/api/v1/profile/statuses/${p.status_id}`, {
    token: session.token,
    json: { content: 'second thoughts', ring: 'semi-private' },
  });
  t.is(res.status, 200, res.text);
  t.like(res.body.post, { status_id: p.status_id, content: 'second thoughts', ring: 'semi-private', created_at: p.created_at });
  t.true(Date.parse(res.body.post.updated_at) >= Date.parse(p.created_at));
  const onlyRing = await app.request('PUT', `/api/v1/profile/statuses/${p.status_id}`, { token: session.token, form: { ring: 'public' } });
  t.like(onlyRing.body.post, { content: 'second thoughts', ring: 'public' });
});

test("someone else's post, or no post at all, is not found", async (t) => {
  const owner = await register(app);
  const other = await register(app);
  const p = await post(owner.token);
  assertError(
    t,
    await app.request('PUT', `/api/v1/profile/statuses/${p.status_id}`, { token: other.token, json: { content: 'hijack' } }),
    404,
    'status_not_found',
  );
  assertError(
    t,
    await app.request('PUT', '/api/v1/profile/statuses/00000000-0000-4000-8000-000000000000', { token: owner.token, json: { content: 'x' } }),
    404,
    'status_not_found',
  );
  const list = await app.request('GET', '/api/v1/profile/statuses', { token: owner.token });
  t.is(list.body.posts[0].content, 'first words');
});

test('an edit that changes nothing or breaks a rule is refused', async (t) => {
  const session = await register(app);
  const p = await post(session.token);
  const url = `/api/v1/profile/statuses/${p.status_id}`;
  assertError(t, await app.request('PUT', url, { token: session.token, json: {} }), 400, 'validation_failed', /changes nothing/);
  assertError(t, await app.request('PUT', url, { token: session.token, json: { content: '' } }), 400, 'validation_failed', /content is empty/);
  assertError(
    t,
    await app.request('PUT', '/api/v1/profile/statuses/not-a-uuid', { token: session.token, json: { content: 'x' } }),
    400,
    'validation_failed',
    /status_id must match format "uuid"/,
  );
  assertError(t, await app.request('PUT', url, { json: { content: 'x' } }), 401, 'token_missing');
});
