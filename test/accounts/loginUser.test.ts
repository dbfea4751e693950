import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, mailTo, newPerson, register, STRONG_PASSWORD } from './fixtures.ts';

// Behind a trusted proxy, X-Forwarded-For gives each request the client address a test chooses.
const app = useTestApp({ env: { TRUST_PROXY: 'true' }, smtp: true });

const LOGIN = '/api/v1/users/login';
/** A login as sent from client address `address`. */
const loginFrom = (address: string, json: Record<string, string>) => app.request('POST', LOGIN, { json, headers: { 'x-forwarded-for': address } });

test('logs in by e-mail, and by handle whatever its case', async (t) => {
  const { person, user_id } = await register(app);
  const byEmail = await app.request('POST', LOGIN, { json: { email: person.email.toUpperCase(), password: person.password } });
  t.is(byEmail.status, 200, byEmail.text);
  t.is(byEmail.body.user_id, user_id);
  t.is(byEmail.body.expires_in, 900);
  const byHandle = await app.request('POST', LOGIN, { form: { handle: person.handle.toUpperCase(), password: person.password } });
  t.is(byHandle.status, 200, byHandle.text);
  t.not(byHandle.body.token, byEmail.body.token);
  const me = await app.request('GET', '/api/v1/auth/me', { token: byHandle.body.token });
  t.is(me.body.user_id, user_id);
  const [event] = (await auditEvents(app, 'session.login')).filter((e) => e.subject === `user:${user_id}`);
  t.truthy(event?.client_ip);
  t.false(JSON.stringify(event).includes(byHandle.body.token));
});

test('an unknown account and a wrong password get the same 401, and both are audited without the password', async (t) => {
  const { person, user_id } = await register(app);
  const wrong = await app.request('POST', LOGIN, { json: { email: person.email, password: 'not the password at all' } });
  const unknown = await app.request('POST', LOGIN, { json: { email: `nobody.${person.handle}@example.com`, password: 'not the password at all' } });
  assertError(t, wrong, 401, 'invalid_credentials', 'the email or handle, or the password, is wrong');
  t.deepEqual(unknown.body, wrong.body);
  t.is(unknown.status, wrong.status);
  const failures = await auditEvents(app, 'session.login_failed');
  t.true(failures.some((e) => e.subject === `user:${user_id}` && e.data.reason === 'wrong_password'));
  t.true(failures.some((e) => e.subject === null && e.data.reason === 'unknown_account'));
  t.false(JSON.stringify(failures).includes('not the password at all'));
});

test('email and handle together, or neither, are refused', async (t) => {
  const { person } = await register(app);
  assertError(
    t,
    await app.request('POST', LOGIN, { json: { email: person.email, handle: person.handle, password: person.password } }),
    400,
    'validation_failed',
    /either email or handle/,
  );
  assertError(t, await app.request('POST', LOGIN, { json: { password: person.password } }), 400, 'validation_failed', /either email or handle/);
  assertError(t, await app.request('POST', LOGIN, { json: { email: person.email } }), 400, 'validation_failed', /password is required/);
});

test('five failed logins from one address lock the account there for the window, even with the right password', async (t) => {
  const { person, user_id } = await register(app);
  const guesser = '198.51.100.7';
  for (let i = 0; i < 5; i++) {
    assertError(t, await loginFrom(guesser, { handle: person.handle, password: `wrong guess ${i}` }), 401, 'invalid_credentials');
  }
  const locked = await loginFrom(guesser, { email: person.email, password: person.password });
  assertError(t, locked, 429, 'too_many_requests', /too many failed logins/);
  const retryAfter = Number(locked.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);

  // Someone else's failures do not lock the owner out: from another address the right password works.
  t.is((await loginFrom('203.0.113.20', { email: person.email, password: person.password })).status, 200);
  // Another account from the locked address is not locked out either.
  const other = await register(app);
  t.is((await loginFrom(guesser, { email: other.person.email, password: other.person.password })).status, 200);

  // When the window has passed, the account opens again at that address.
  await app.service.deps
    .db('login_throttle')
    .where('key', 'like', `user:${user_id}%`)
    .update({ window_started_at: new Date(Date.now() - 16 * 60 * 1000) });
  t.is((await loginFrom(guesser, { email: person.email, password: person.password })).status, 200);
});

test('fifty failures from many addresses lock the account at every address for the window', async (t) => {
  const { person, user_id } = await register(app);
  for (let a = 0; a < 10; a++) {
    for (let i = 0; i < 5; i++) {
      assertError(t, await loginFrom(`198.51.100.${100 + a}`, { handle: person.handle, password: `wrong guess ${i}` }), 401, 'invalid_credentials');
    }
  }
  // An address that has not failed once is refused too, right password or not.
  assertError(
    t,
    await loginFrom('203.0.113.50', { handle: person.handle, password: person.password }),
    429,
    'too_many_requests',
    /too many failed logins/,
  );
  const [account] = await app.service.deps.db('login_throttle').where({ key: `user:${user_id}` });
  t.is(account.failures, 50);
  // A reset proves who the owner is, and opens the account again at every address.
  await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: person.email } });
  const mail = await mailTo(app, person.email, /Reset your Ringfence password/);
  const token = /Your reset token: (\S+)/.exec(mail.text ?? '')![1];
  t.is((await app.request('POST', '/api/v1/auth/reset-password', { json: { token, new_password: 'violet otter under the bridge' } })).status, 200);
  t.deepEqual(await app.service.deps.db('login_throttle').where('key', 'like', `user:${user_id}%`), []);
  t.is((await loginFrom('198.51.100.100', { handle: person.handle, password: 'violet otter under the bridge' })).status, 200);
});

test('after five wrong logins by handle, a wrong login by the account’s real e-mail answers like one by an unknown address', async (t) => {
  const { person } = await register(app);
  const observer = '198.51.100.61';
  for (let i = 0; i < 5; i++) {
    assertError(t, await loginFrom(observer, { handle: person.handle, password: `wrong guess ${i}` }), 401, 'invalid_credentials');
  }
  assertError(t, await loginFrom(observer, { handle: person.handle, password: 'wrong guess 5' }), 429, 'too_many_requests');
  // Whether an address belongs to the handle must not show: the real one and a stranger's answer alike.
  const real = await loginFrom(observer, { email: person.email, password: 'wrong guess 6' });
  const stranger = await loginFrom(observer, { email: newPerson().email, password: 'wrong guess 6' });
  assertError(t, real, 401, 'invalid_credentials');
  t.is(stranger.status, real.status);
  t.deepEqual(stranger.body, real.body);
  t.is(real.headers.get('retry-after'), stranger.headers.get('retry-after'));
  // And each is throttled after its own five failures, with the same answer.
  for (let i = 0; i < 4; i++) {
    assertError(t, await loginFrom(observer, { email: person.email, password: `wrong again ${i}` }), 401, 'invalid_credentials');
  }
  const other = newPerson().email;
  for (let i = 0; i < 5; i++) assertError(t, await loginFrom(observer, { email: other, password: `wrong again ${i}` }), 401, 'invalid_credentials');
  const realLocked = await loginFrom(observer, { email: person.email, password: 'wrong again 5' });
  const otherLocked = await loginFrom(observer, { email: other, password: 'wrong again 5' });
  assertError(t, realLocked, 429, 'too_many_requests');
  t.deepEqual(otherLocked.body, realLocked.body);
  t.is(otherLocked.status, 429);
});

test('an unknown identifier is throttled exactly like an account', async (t) => {
  const email = newPerson().email;
  for (let i = 0; i < 5; i++)
    assertError(t, await app.request('POST', LOGIN, { json: { email, password: STRONG_PASSWORD } }), 401, 'invalid_credentials');
  assertError(t, await app.request('POST', LOGIN, { json: { email, password: STRONG_PASSWORD } }), 429, 'too_many_requests');
});

test('a successful login clears the account failures', async (t) => {
  const { person } = await register(app);
  for (let i = 0; i < 4; i++) await app.request('POST', LOGIN, { json: { handle: person.handle, password: 'wrong password here' } });
  t.is((await app.request('POST', LOGIN, { json: { handle: person.handle, password: person.password } })).status, 200);
  for (let i = 0; i < 4; i++) await app.request('POST', LOGIN, { json: { handle: person.handle, password: 'wrong password here' } });
  t.is((await app.request('POST', LOGIN, { json: { handle: person.handle, password: person.password } })).status, 200);
});

test('a password in the query string is refused', async (t) => {
  assertError(t, await app.request('POST', `${LOGIN}?password=x`, { json: { handle: 'ada', password: 'x' } }), 400, 'credential_in_query');
});
