import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register, type Registered } from '../accounts/fixtures.ts';

const app = useTestApp();
let people: Registered[] = [];
let hidden: Registered;

test.before(async () => {
  people = [];
  for (const handle of ['carol', 'Alice', 'bob', 'erin', 'dave']) {
    const session = await register(app, { handle });
    await app.request('PUT', '/api/v1/profile/update-info', {
      token: session.token,
      json: { updated_fields: { bio: `I am ${handle}`, phone: '+15550100000', home_address: { locality: 'Burnaby' } } },
    });
    people.push(session);
  }
  hidden = await register(app, { handle: 'cathy' });
  await app.service.deps.db('profile_fields').where({ profile_id: hidden.profile_id, field: 'handle' }).update({ ring: 'private' });
});

const DIRECTORY = '/api/v1/profiles';

test('the directory lists listed people in handle order, with public fields only', async (t) => {
  const res = await app.request('GET', DIRECTORY);
  t.is(res.status, 200, res.text);
  t.deepEqual(
    res.body.profiles.map((p: { handle: string }) => p.handle),
    ['Alice', 'bob', 'carol', 'dave', 'erin'],
  );
  t.is(res.body.next_cursor, null);
  for (const p of res.body.profiles) t.deepEqual(Object.keys(p.fields).sort(), ['bio', 'handle']);
  t.false(res.text.includes('+1555'));
  t.false(res.text.includes('Burnaby'));
  t.false(res.text.includes('@example.com'));
  t.false(res.text.includes('cathy'), 'someone whose handle is not public is not listed');
});

test('pages follow the cursor, each person once, and the last page has no cursor', async (t) => {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
    const res = await app.request('GET', DIRECTORY + query);
    t.is(res.status, 200, res.text);
    t.true(res.body.profiles.length <= 2);
    seen.push(...res.body.profiles.map((p: { handle: string }) => p.handle));
    cursor = res.body.next_cursor;
    pages++;
  } while (cursor && pages < 10);
  t.deepEqual(seen, ['Alice', 'bob', 'carol', 'dave', 'erin']);
  t.is(pages, 3);
});

test('a hidden person between two pages does not shorten or break the paging', async (t) => {
  const first = await app.request('GET', `${DIRECTORY}?limit=3`);
  t.deepEqual(
    first.body.profiles.map((p: { handle: string }) => p.handle),
    ['Alice', 'bob', 'carol'],
  );
  const second = await app.request('GET', `${DIRECTORY}?limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`);
  t.deepEqual(
    second.body.profiles.map((p: { handle: string }) => p.handle),
    ['dave', 'erin'],
  );
  t.is(second.body.next_cursor, null);
});

test('a bad limit or cursor is refused with what to send', async (t) => {
  assertError(t, await app.request('GET', `${DIRECTORY}?limit=0`), 400, 'validation_failed', /limit must be >= 1/);
  assertError(t, await app.request('GET', `${DIRECTORY}?limit=101`), 400, 'validation_failed', /limit must be <= 100/);
  assertError(t, await app.request('GET', `${DIRECTORY}?limit=ten`), 400, 'validation_failed', /limit must be integer/);
  assertError(t, await app.request('GET', `${DIRECTORY}?cursor=garbage`), 400, 'invalid_cursor', /next_cursor of the previous page/);
});

test('a cursor that decodes to a NUL, a control character, a lone surrogate or the wrong type is refused as invalid_cursor', async (t) => {
  const cursor = (position: unknown) => Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
  for (const h of ['a\u0000b', '\u0000', 'a\u0007', 'x\ud800', 'A'.repeat(300), 12, null, ['a'], { a: 1 }]) {
    const res = await app.request('GET', `${DIRECTORY}?cursor=${cursor({ v: 1, h })}`);
    assertError(t, res, 400, 'invalid_cursor', /next_cursor of the previous page/);
  }
  assertError(
    t,
    await app.request('GET', `${DIRECTORY}?cursor=${Buffer.from('{"v":1,"h":"a\\u0000"}').toString('base64url')}`),
    400,
    'invalid_cursor',
  );
  // A well-formed cursor past everyone is an empty page, not an error.
  const end = await app.request('GET', `${DIRECTORY}?cursor=${cursor({ v: 1, h: 'zzzzzzzz' })}`);
  t.is(end.status, 200, end.text);
  t.deepEqual(end.body.profiles, []);
});
