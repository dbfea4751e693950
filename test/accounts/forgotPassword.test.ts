import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, countRows, mailsTo, mailTo, newPerson, register } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const FORGOT = '/api/v1/auth/forgot-password';

test.serial('the answer is the same whether or not an account uses the address; only a real one gets mail', async (t) => {
  const session = await register(app);
  await mailTo(app, session.person.email, /verification code/);
  const nobody = newPerson().email;
  const before = await countRows(app, ['outbox', 'password_resets']);
  const known = await app.request('POST', FORGOT, { json: { email: session.person.email.toUpperCase() } });
  const unknown = await app.request('POST', FORGOT, { json: { email: nobody } });
  t.is(known.status, 202);
  t.is(unknown.status, 202);
  t.deepEqual(known.body, unknown.body);
  t.deepEqual(await countRows(app, ['outbox', 'password_resets']), { outbox: before.outbox + 1, password_resets: before.password_resets + 1 });
  const mail = await mailTo(app, session.person.email, /Reset your Ringfence password/);
  t.regex(mail.text ?? '', /Your reset token: \S{40,}/);
  const [row] = await app.service.deps.db('password_resets').where({ user_id: session.user_id });
  t.false((mail.text ?? '').includes(row.token_hash), 'the database keeps only the hash');
  t.true((await auditEvents(app, 'password.reset_requested')).some((e) => e.subject === `user:${session.user_id}`));
});

test.serial('asking again within a minute sends no second mail, and says the same', async (t) => {
  const session = await register(app);
  const first = await app.request('POST', FORGOT, { form: { email: session.person.email } });
  await mailTo(app, session.person.email, /Reset your/);
  const second = await app.request('POST', FORGOT, { json: { email: session.person.email } });
  t.deepEqual(second.body, first.body);
  t.is((await app.service.deps.db('password_resets').where({ user_id: session.user_id })).length, 1);
  await new Promise((r) => setTimeout(r, 500));
  t.is(mailsTo(app, session.person.email, /Reset your/).length, 1);
});

test('the address is required', async (t) => {
  assertError(t, await app.request('POST', FORGOT, { json: {} }), 400, 'validation_failed', /email is required/);
});
