import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, register, verificationCode } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const VERIFY_EMAIL = '/api/v1/auth/verify-email';
const me = (token: string) => app.request('GET', '/api/v1/auth/me', { token });

/** A six-digit code that is not `code`. */
const otherThan = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

test('the mailed code verifies the address, once', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  const res = await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code } });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { status: 'success', email_verified: true });
  t.true((await me(session.token)).body.email_verified);
  t.true((await auditEvents(app, 'email.verified')).some((e) => e.subject === `user:${session.user_id}`));
  // Verified is verified: sending the code again changes nothing.
  t.is((await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code } })).status, 200);
  t.is(await app.service.deps.db('email_verifications').where({ user_id: session.user_id }).first(), undefined);
});

test('a wrong code says how many attempts are left; after five even the right code is refused', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  for (let left = 4; left >= 1; left--) {
    assertError(
      t,
      await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code: otherThan(code) } }),
      400,
      'wrong_code',
      `the code is wrong: ${left} attempt(s) left`,
    );
  }
  assertError(
    t,
    await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code: otherThan(code) } }),
    400,
    'wrong_code',
    /that was the last attempt/,
  );
  assertError(
    t,
    await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code } }),
    400,
    'code_attempts_exceeded',
    /verify-email\/resend/,
  );
  t.false((await me(session.token)).body.email_verified);
});

test('an expired code is refused with where to get a new one', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  await app.service.deps
    .db('email_verifications')
    .where({ user_id: session.user_id })
    .update({ expires_at: new Date(Date.now() - 1000) });
  assertError(
    t,
    await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code } }),
    400,
    'code_expired',
    /has expired: ask for a new one/,
  );
});

test('a code that is not six digits is refused without using an attempt', async (t) => {
  const session = await register(app);
  assertError(t, await app.request('POST', VERIFY_EMAIL, { token: session.token, json: { code: 'abc' } }), 400, 'invalid_code', /6 digits/);
  const row = await app.service.deps.db('email_verifications').where({ user_id: session.user_id }).first();
  t.is(row.attempts, 0);
  assertError(t, await app.request('POST', VERIFY_EMAIL, { token: session.token, json: {} }), 400, 'validation_failed', /code is required/);
});

test('seed clients may send the token in the form; without one: 401', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  t.is((await app.request('POST', VERIFY_EMAIL, { form: { token: session.token, code } })).status, 200);
  assertError(t, await app.request('POST', VERIFY_EMAIL, { json: { code } }), 401, 'token_missing', 'token must exist!');
});

test('codes are stored only as keyed hashes', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  const row = await app.service.deps.db('email_verifications').where({ user_id: session.user_id }).first();
  t.false(JSON.stringify(row).includes(code));
  t.regex(row.code_hash, /^[0-9a-f]{64}$/);
});
