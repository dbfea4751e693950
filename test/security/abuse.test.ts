/**
 * Abuse limits (issue 7): the guessable steps — login, the e-mailed code, the reset token — and the form that
 * sends mail (forgot-password) are limited per account and per client address, answering 429 with Retry-After;
 * the secrets in links and mails carry at least 128 bits; and neither login nor forgot-password says whether an
 * account exists. (Thirty failed logins from one address: test/accounts/loginUser.throttle.test.ts.)
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { type TestResponse, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { grantService, registerClient, startCallback } from '../helpers/oidc.ts';
import { mailsTo, mailTo, newPerson, register, verificationCode } from '../accounts/fixtures.ts';
import { recordSecrets } from './secrets.ts';

const app = useTestApp({ smtp: true });
test.before(async () => {
  recordSecrets('security-abuse', app.kek.toString('hex'), app.kek.toString('base64'));
});

const db = () => app.service.deps.db;

function assert429(t: import('ava').ExecutionContext, res: TestResponse, message: RegExp): void {
  assertError(t, res, 429, 'too_many_requests', message);
  t.true(Number(res.headers.get('retry-after')) > 0, 'Retry-After says how long to wait');
}

/** The limits are counted per 15-minute window; a test that needs a fresh window for one limit starts it here. */
async function resetLimit(prefix: string): Promise<void> {
  await db()('login_throttle').where('key', 'like', `${prefix}%`).delete();
}

test.serial('login: five failures lock an account; an unknown account locks after as many, with the same answers', async (t) => {
  const known = await register(app);
  const unknown = newPerson().email;
  for (let i = 0; i < 5; i++) {
    const a = await app.request('POST', '/api/v1/users/login', { json: { email: known.person.email, password: `wrong ${i} password` } });
    const b = await app.request('POST', '/api/v1/users/login', { json: { email: unknown, password: `wrong ${i} password` } });
    t.is(a.status, 401);
    t.deepEqual([a.status, a.body], [b.status, b.body], 'a wrong password and an unknown account answer alike');
  }
  const a = await app.request('POST', '/api/v1/users/login', { json: { email: known.person.email, password: known.person.password } });
  const b = await app.request('POST', '/api/v1/users/login', { json: { email: unknown, password: known.person.password } });
  assert429(t, a, /too many failed logins/);
  t.deepEqual([b.status, b.body], [a.status, a.body], 'the lock says nothing about whether the account exists');
  await resetLimit('ip:');
});

test.serial('forgot-password: thirty requests per address whatever they name, then 429; known and unknown addresses answer alike', async (t) => {
  await resetLimit('forgot-ip:');
  const known = await register(app);
  const answers: TestResponse[] = [];
  for (let i = 0; i < 30; i++) {
    answers.push(
      await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: i % 2 === 0 ? known.person.email : newPerson().email } }),
    );
  }
  t.deepEqual([...new Set(answers.map((a) => a.status))], [202]);
  t.is(new Set(answers.map((a) => a.text)).size, 1, 'every answer is the same, known address or not');
  const knownLocked = await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: known.person.email } });
  const unknownLocked = await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: newPerson().email } });
  assert429(t, knownLocked, /too many password reset requests/);
  t.deepEqual([unknownLocked.status, unknownLocked.body], [knownLocked.status, knownLocked.body]);
  // The per-account cooldown kept the known address to one mail despite fifteen requests.
  await mailTo(app, known.person.email, /Reset your Ringfence password/);
  t.is(mailsTo(app, known.person.email, /Reset your Ringfence password/).length, 1);
});

test.serial('verify-email: ten wrong codes per account across resends, then even the right code waits', async (t) => {
  await resetLimit('otp-');
  const person = await register(app);
  const wrongFor = (code: string) => (code === '000000' ? '000001' : '000000');
  const attempt = (code: string) => app.request('POST', '/api/v1/auth/verify-email', { token: person.token, json: { code } });
  /** A new code: the resend cooldown is moved out of the way, as a minute passing would. */
  const resend = async () => {
    await db()('email_verifications')
      .where({ user_id: person.user_id })
      .update({ sent_at: new Date(Date.now() - 120_000) });
    const before = mailsTo(app, person.person.email, /verification code/).length;
    t.is((await app.request('POST', '/api/v1/auth/verify-email/resend', { token: person.token, json: {} })).status, 200);
    await app.smtp.waitFor(() => mailsTo(app, person.person.email, /verification code/).length > before);
    return /is: (\d{6})/.exec(mailsTo(app, person.person.email, /verification code/).at(-1)?.text ?? '')![1];
  };
  // Each code allows five attempts; the account's ten hold across codes: 4 + 4 + 2 wrong ones.
  let code = await verificationCode(app, person.person.email);
  for (const wrongs of [4, 4, 2]) {
    for (let i = 0; i < wrongs; i++) t.is((await attempt(wrongFor(code))).body.error, 'wrong_code');
    if (wrongs === 4) code = await resend();
  }
  assert429(t, await attempt(code), /too many wrong codes for this account/);
  // Once the window has passed, the right code works.
  await db()('login_throttle')
    .where('key', 'like', 'otp-%')
    .update({ window_started_at: new Date(Date.now() - 16 * 60_000) });
  t.is((await attempt(code)).status, 200);
});

test.serial('verify-email: thirty wrong codes per address across accounts, then 429 for every account', async (t) => {
  await resetLimit('otp-');
  for (let n = 0; n < 6; n++) {
    const person = await register(app);
    const code = await verificationCode(app, person.person.email);
    for (let i = 0; i < 5; i++) {
      t.is(
        (await app.request('POST', '/api/v1/auth/verify-email', { token: person.token, json: { code: code === '999999' ? '999998' : '999999' } }))
          .status,
        400,
      );
    }
  }
  const fresh = await register(app);
  const code = await verificationCode(app, fresh.person.email);
  assert429(
    t,
    await app.request('POST', '/api/v1/auth/verify-email', { token: fresh.token, json: { code } }),
    /too many wrong codes from your address/,
  );
  await resetLimit('otp-');
});

test.serial('reset-password: thirty invalid tokens per address, then even a valid token waits', async (t) => {
  await resetLimit('reset-ip:');
  await resetLimit('forgot-ip:');
  const person = await register(app);
  t.is((await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: person.person.email } })).status, 202);
  const mail = await mailTo(app, person.person.email, /Reset your Ringfence password/);
  const token = /Your reset token: (\S+)/.exec(mail.text ?? '')![1];
  recordSecrets('security-abuse', token);
  for (let i = 0; i < 30; i++) {
    const res = await app.request('POST', '/api/v1/auth/reset-password', {
      json: { token: randomBytes(32).toString('base64url'), new_password: 'a brand new passphrase' },
    });
    t.is(res.body.error, 'invalid_reset_token');
  }
  assert429(
    t,
    await app.request('POST', '/api/v1/auth/reset-password', { json: { token, new_password: 'a brand new passphrase' } }),
    /too many invalid reset tokens/,
  );
  await resetLimit('reset-ip:');
  t.is(
    (await app.request('POST', '/api/v1/auth/reset-password', { json: { token, new_password: 'a brand new passphrase' } })).status,
    200,
    'the token still works once the limit is lifted',
  );
});

test.serial('login by handle, too, answers an unknown account and a wrong password alike', async (t) => {
  const known = await register(app);
  const a = await app.request('POST', '/api/v1/users/login', { json: { handle: known.person.handle, password: 'not the password' } });
  const b = await app.request('POST', '/api/v1/users/login', {
    json: { handle: `nobody_${randomBytes(4).toString('hex')}`, password: 'not the password' },
  });
  t.is(a.status, 401);
  t.deepEqual([b.status, b.body], [a.status, a.body]);
  t.is(a.headers.get('www-authenticate'), b.headers.get('www-authenticate'));
});

/** Bits of a random identifier from its alphabet and length, after checking it uses only that alphabet. */
function bits(value: string): number {
  if (/^[0-9]+$/.test(value)) return value.length * Math.log2(10);
  if (/^[0-9a-f]+$/.test(value)) return value.length * 4;
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value.length * 6;
  return 0;
}

test.serial('tokens, codes and ids in links and mails carry at least 128 random bits', async (t) => {
  t.timeout(60_000);
  await resetLimit('forgot-ip:');
  const person = await register(app);
  const second = await register(app);
  await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: person.person.email } });
  const reset = /Your reset token: (\S+)/.exec((await mailTo(app, person.person.email, /Reset your/)).text ?? '')![1];
  recordSecrets('security-abuse', reset);

  let browser: Browser | undefined;
  const callback = await startCallback();
  try {
    // The interaction id is in the URL the provider redirects the browser to.
    const client = await registerClient(app, 'government', { redirectUris: [callback.url] });
    const auth = await fetch(
      `${app.url}/oidc/auth?${new URLSearchParams({ client_id: client.service.client_id, response_type: 'code', scope: 'openid', redirect_uri: callback.url, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    const uid = /\/interaction\/([^/?#]+)/.exec(auth.headers.get('location') ?? '')?.[1] ?? '';
    browser = await launchBrowser();
    const granted = await grantService(
      app,
      browser,
      callback.url,
      { handle: person.person.handle, password: person.person.password },
      'government',
      'openid email',
    );
    recordSecrets(
      'security-abuse',
      client.clientSecret,
      granted.clientSecret,
      granted.dataTokens.access_token,
      granted.dataTokens.refresh_token,
      granted.tokens.refresh_token,
    );
    const samples: [string, string][] = [
      ['session token', person.token],
      ['refresh token', person.refresh_token],
      ['password reset token (mailed)', reset],
      ['client secret', client.clientSecret],
      ['data API access token', granted.dataTokens.access_token],
      ['service refresh token', granted.dataTokens.refresh_token ?? ''],
      ['interaction id (in the page URL)', uid],
    ];
    for (const [what, value] of samples) {
      t.true(bits(value) >= 128, `${what} carries ${bits(value).toFixed(0)} bits`);
      t.log(`${what}: ${bits(value).toFixed(0)} bits`);
    }
    // Fresh randomness each time, not a counter or a reused value.
    t.not(person.token, second.token);
    t.not(person.refresh_token, second.refresh_token);
    t.not(client.clientSecret, granted.clientSecret);
    t.not(granted.dataTokens.access_token, granted.tokens.access_token);
  } finally {
    await browser?.close();
    await callback.close();
  }
});
