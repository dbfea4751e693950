import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { mailsTo, register, verificationCode } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const RESEND = '/api/v1/auth/verify-email/resend';

test('a new code replaces the old one, at most once a minute', async (t) => {
  const session = await register(app);
  const first = await verificationCode(app, session.person.email);

  const tooSoon = await app.request('POST', RESEND, { token: session.token });
  assertError(t, tooSoon, 429, 'too_many_requests', /wait \d+ seconds/);
  t.true(Number(tooSoon.headers.get('retry-after')) > 0);

  await app.service.deps
    .db('email_verifications')
    .where({ user_id: session.user_id })
    .update({ sent_at: new Date(Date.now() - 61_000) });
  const res = await app.request('POST', RESEND, { token: session.token, json: {} });
  t.is(res.status, 200, res.text);
  t.is(res.body.expires_in, 900);

  await app.smtp.waitFor(() => mailsTo(app, session.person.email, /verification code/).length === 2);
  const mails = mailsTo(app, session.person.email, /verification code/);
  const second = /is: (\d{6})/.exec(mails[1].text ?? '')![1];
  if (second !== first) {
    assertError(t, await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: first } }), 400, 'wrong_code');
  }
  t.is((await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: second } })).status, 200);
});

test('a verified address needs no code: 409', async (t) => {
  const session = await register(app);
  const code = await verificationCode(app, session.person.email);
  await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code } });
  assertError(t, await app.request('POST', RESEND, { token: session.token }), 409, 'already_verified', 'your e-mail address is already verified');
});

test('resend needs a token', async (t) => {
  assertError(t, await app.request('POST', RESEND), 401, 'token_missing', 'token must exist!');
});

// Serial: it counts the whole outbox table, which the other tests of this file write to.
test.serial('an account gets at most 10 mails an hour, of every kind: the next resend is 429 and a reset request sends nothing', async (t) => {
  const session = await register(app);
  await verificationCode(app, session.person.email);
  const rewind = () =>
    app.service.deps
      .db('email_verifications')
      .where({ user_id: session.user_id })
      .update({ sent_at: new Date(Date.now() - 61_000) });
  // The registration's code was the first; nine resends make ten.
  for (let i = 0; i < 9; i++) {
    await rewind();
    t.is((await app.request('POST', RESEND, { token: session.token })).status, 200);
  }
  await rewind();
  const capped = await app.request('POST', RESEND, { token: session.token });
  assertError(t, capped, 429, 'too_many_requests', /too many e-mails for this account in the last hour: wait \d+ minute\(s\)/);
  const retryAfter = Number(capped.headers.get('retry-after'));
  t.true(retryAfter > 15 * 60 && retryAfter <= 60 * 60, `Retry-After ${retryAfter}`);

  // Forgot-password answers as always, but mails nothing past the cap.
  const outbox = await app.service.deps.db('outbox').count({ n: '*' });
  t.is((await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: session.person.email } })).status, 202);
  t.deepEqual(await app.service.deps.db('outbox').count({ n: '*' }), outbox);
  t.is((await app.service.deps.db('password_resets').where({ user_id: session.user_id })).length, 0);
});
