// Per-address throttling needs a database of its own: it locks out every login from this test's address.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { newPerson, register } from './fixtures.ts';

const app = useTestApp();

test('thirty failed logins from one address lock that address out, for every account', async (t) => {
  const { person } = await register(app);
  for (let i = 0; i < 30; i++) {
    // A different identifier each time: no single account reaches its own limit.
    const res = await app.request('POST', '/api/v1/users/login', { json: { email: newPerson().email, password: 'spraying passwords' } });
    assertError(t, res, 401, 'invalid_credentials');
  }
  const locked = await app.request('POST', '/api/v1/users/login', { json: { email: person.email, password: person.password } });
  assertError(t, locked, 429, 'too_many_requests');
  t.true(Number(locked.headers.get('retry-after')) > 0);
  const rows = await app.service.deps.db('login_throttle').where('key', 'like', 'ip:%');
  t.is(rows.length, 1);
  t.is(rows[0].failures, 30);
  // No address or password is kept in the throttle table, only hashes of unknown identifiers.
  t.false(JSON.stringify(await app.service.deps.db('login_throttle')).includes('@example.com'));
});
