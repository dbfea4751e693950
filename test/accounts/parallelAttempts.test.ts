// Parallel guesses against the limits: each attempt is counted before it is evaluated, in one statement, so a burst
// of requests gets exactly the limit between them, not the limit times however many got past a check in the meantime.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, register, verificationCode } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const LOGIN = '/api/v1/users/login';
const BURST = 25;

test('a burst of wrong passwords gets exactly the login limit evaluated, and the right one after it is refused', async (t) => {
  const { person, user_id } = await register(app);
  const answers = await Promise.all(
    Array.from({ length: BURST }, (_, i) => app.request('POST', LOGIN, { json: { handle: person.handle, password: `wrong guess number ${i}` } })),
  );
  const statuses = answers.map((r) => r.status).sort();
  t.is(statuses.filter((s) => s === 401).length, 5, `statuses: ${statuses.join(' ')}`);
  t.is(statuses.filter((s) => s === 429).length, BURST - 5, `statuses: ${statuses.join(' ')}`);
  t.is((await auditEvents(app, 'session.login_failed')).filter((e) => e.subject === `user:${user_id}`).length, 5);
  assertError(t, await app.request('POST', LOGIN, { json: { handle: person.handle, password: person.password } }), 429, 'too_many_requests');
  const rows = await app.service.deps.db('login_throttle').where('key', 'like', `user:${user_id}%`);
  t.true(rows.length > 0);
  for (const row of rows) t.true(row.failures <= 5, `${row.key}: ${row.failures}`);
});

test('a burst of wrong e-mail codes gets exactly the code’s attempts evaluated, and the right code after it is refused', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
  const answers = await Promise.all(
    Array.from({ length: BURST }, (_, i) => app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: wrong(i) } })),
  );
  const codes = answers.map((r) => r.body.error as string).sort();
  t.is(codes.filter((c) => c === 'wrong_code').length, 5, codes.join(' '));
  t.true(
    codes.every((c) => ['wrong_code', 'code_attempts_exceeded', 'too_many_requests'].includes(c)),
    codes.join(' '),
  );
  const row = await app.service.deps.db('email_verifications').where({ user_id: session.user_id }).first();
  t.is(row.attempts, 5);
  assertError(t, await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code } }), 400, 'code_attempts_exceeded');
  t.false((await app.request('GET', '/api/v1/auth/me', { token: session.token })).body.email_verified);
});
