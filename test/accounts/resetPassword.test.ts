import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, mailTo, providerSession, register, type Registered } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const RESET = '/api/v1/auth/reset-password';
const NEW_PASSWORD = 'violet otter under the bridge';

/** Asks for a reset and reads the token from the mail in the SMTP sink. */
async function mailedToken(session: Registered): Promise<string> {
  const res = await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: session.person.email } });
  if (res.status !== 202) throw new Error(res.text);
  const mail = await mailTo(app, session.person.email, /Reset your Ringfence password/);
  return /Your reset token: (\S+)/.exec(mail.text ?? '')![1];
}

const login = (session: Registered, password: string) =>
  app.request('POST', '/api/v1/users/login', { json: { email: session.person.email, password } });

test('the reset flow works end to end through the mail, and the token works once', async (t) => {
  const session = await register(app);
  const other = await login(session, session.person.password);
  const token = await mailedToken(session);

  const res = await app.request('POST', RESET, { json: { token, new_password: NEW_PASSWORD } });
  t.is(res.status, 200, res.text);
  t.is(res.body.sessions_ended, 2);

  // Every old session has ended; the old password no longer works, the new one does.
  assertError(t, await app.request('GET', '/api/v1/auth/me', { token: session.token }), 401, 'token_revoked');
  assertError(t, await app.request('GET', '/api/v1/auth/me', { token: other.body.token }), 401, 'token_revoked');
  assertError(t, await login(session, session.person.password), 401, 'invalid_credentials');
  t.is((await login(session, NEW_PASSWORD)).status, 200);

  // The token is spent.
  assertError(
    t,
    await app.request('POST', RESET, { json: { token, new_password: 'another fine passphrase' } }),
    400,
    'invalid_reset_token',
    /already used/,
  );
  t.is((await login(session, NEW_PASSWORD)).status, 200);

  await mailTo(app, session.person.email, /password was changed/);
  const [event] = (await auditEvents(app, 'password.reset')).filter((e) => e.subject === `user:${session.user_id}`);
  t.truthy(event?.client_ip);
  t.false(JSON.stringify(event).includes(token));
  t.false(JSON.stringify(event).includes(NEW_PASSWORD));
});

test('a reset ends the account’s browser sessions at the OpenID provider, and no one else’s', async (t) => {
  const session = await register(app);
  const stranger = await register(app);
  const mine = await providerSession(app, session.user_id);
  const theirs = await providerSession(app, stranger.user_id);
  const token = await mailedToken(session);
  t.is((await app.request('POST', RESET, { json: { token, new_password: NEW_PASSWORD } })).status, 200);
  t.false(await mine.alive());
  t.true(await theirs.alive());
});

test('a weak new password is refused and leaves the token usable', async (t) => {
  const session = await register(app);
  const token = await mailedToken(session);
  assertError(t, await app.request('POST', RESET, { json: { token, new_password: '12345678' } }), 400, 'weak_password', /most common passwords/);
  assertError(
    t,
    await app.request('POST', RESET, { json: { token, new_password: session.person.email } }),
    400,
    'weak_password',
    /must not be your email/,
  );
  t.is((await app.request('POST', RESET, { form: { token, new_password: NEW_PASSWORD } })).status, 200);
});

test('guessable new passwords are refused at reset, the account’s handle too, and a long passphrase is accepted', async (t) => {
  const session = await register(app);
  const token = await mailedToken(session);
  for (const new_password of ['password123', 'Password1!', 'qwerty123456']) {
    const res = await app.request('POST', RESET, { json: { token, new_password } });
    assertError(t, res, 400, 'weak_password', /new_password is one of the most common passwords/);
    t.regex(res.body.details[0].message, /commonly used password/);
  }
  assertError(
    t,
    await app.request('POST', RESET, { json: { token, new_password: `${session.person.handle}${session.person.handle}` } }),
    400,
    'weak_password',
    /must not be your email, handle or name/,
  );
  t.is((await app.request('POST', RESET, { json: { token, new_password: 'marmalade lighthouse sings under seventeen umbrellas' } })).status, 200);
});

test('an expired token is refused with where to get a new one', async (t) => {
  const session = await register(app);
  const token = await mailedToken(session);
  await app.service.deps
    .db('password_resets')
    .where({ user_id: session.user_id })
    .update({ expires_at: new Date(Date.now() - 1000) });
  assertError(t, await app.request('POST', RESET, { json: { token, new_password: NEW_PASSWORD } }), 400, 'reset_token_expired', /forgot-password/);
  t.is((await login(session, session.person.password)).status, 200, 'the password is unchanged');
});

test('an unknown token or a missing field is refused', async (t) => {
  assertError(t, await app.request('POST', RESET, { json: { token: 'invented', new_password: NEW_PASSWORD } }), 400, 'invalid_reset_token');
  assertError(t, await app.request('POST', RESET, { json: { token: 'invented' } }), 400, 'validation_failed', /new_password is required/);
});
