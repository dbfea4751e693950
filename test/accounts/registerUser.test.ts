import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { logFileFor, startTestApp, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { ACCOUNT_TABLES, auditEvents, countRows, mailTo, newPerson, STRONG_PASSWORD } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const REGISTER = '/api/v1/users/register';

function form(fields: Record<string, string>): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return fd;
}

test("the seed's register example, with a strong password, creates the user, the profile and a session", async (t) => {
  // Seed 001 API 1 sends form fields name, email, handle and password.
  const person = newPerson({ name: 'Jane Doe', email: 'jane.doe@example.com', handle: 'janedoe' });
  const res = await app.request('POST', REGISTER, { multipart: form({ ...person }) });
  t.is(res.status, 201, res.text);
  t.is(res.body.status, 'success');
  t.regex(res.body.user_id, /^[0-9a-f-]{36}$/);
  t.regex(res.body.profile_id, /^[0-9a-f-]{36}$/);
  t.true(res.body.token.length >= 22, 'at least 128 bits of token');
  t.truthy(res.body.refresh_token);
  t.is(res.body.expires_in, 900);

  const db = app.service.deps.db;
  const user = await db('users').where({ id: res.body.user_id }).first();
  t.regex(user.password_hash, /^\$argon2id\$/);
  t.false(JSON.stringify(user).includes('jane.doe@example.com'), 'the address is not stored in the clear');
  const sessions = await db('sessions').where({ user_id: res.body.user_id });
  t.is(sessions.length, 1);
  t.not(sessions[0].access_hash, res.body.token, 'tokens are stored as hashes');
  t.false(JSON.stringify(sessions).includes(res.body.token));
  const profile = await db('profiles').where({ id: res.body.profile_id }).first();
  t.is(profile.user_id, res.body.user_id);
  const fields = await db('profile_fields').where({ profile_id: res.body.profile_id }).orderBy('field');
  t.deepEqual(
    fields.map((f: { field: string; ring: string }) => [f.field, f.ring]),
    [
      ['email', 'private'],
      ['handle', 'public'],
      ['name', 'semi-private'],
    ],
  );
  for (const f of fields) t.false(Buffer.from(f.value).toString('latin1').includes('Jane'), 'values are sealed');

  // The new session works, and the verification code is mailed.
  const me = await app.request('GET', '/api/v1/auth/me', { token: res.body.token });
  t.is(me.status, 200);
  t.is(me.body.email, 'jane.doe@example.com');
  t.is(me.body.email_verified, false);
  const mail = await mailTo(app, 'jane.doe@example.com', /verification code/);
  t.regex(mail.text ?? '', /\b\d{6}\b/);

  const [event] = (await auditEvents(app, 'user.register')).filter((e) => e.subject === `user:${res.body.user_id}`);
  t.truthy(event);
  t.is(event.client_ip !== null, true);
  t.false(JSON.stringify(event).includes(person.password));
  t.false(JSON.stringify(event).includes(res.body.token));
});

test('register accepts JSON and urlencoded bodies too', async (t) => {
  const json = await app.request('POST', REGISTER, { json: newPerson() });
  t.is(json.status, 201, json.text);
  const p = newPerson();
  const urlencoded = await app.request('POST', REGISTER, { form: { ...p } });
  t.is(urlencoded.status, 201, urlencoded.text);
});

test.serial('the same email again gets 409 "the email exists!", whatever its case, and writes nothing', async (t) => {
  const first = newPerson();
  t.is((await app.request('POST', REGISTER, { json: first })).status, 201);
  const before = await countRows(app, ACCOUNT_TABLES);
  const again = await app.request('POST', REGISTER, { json: newPerson({ email: first.email.toUpperCase() }) });
  assertError(t, again, 409, 'email_exists', 'the email exists!');
  t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
});

test.serial('a taken handle gets 409 "the handle exists!", whatever its case', async (t) => {
  const first = newPerson();
  t.is((await app.request('POST', REGISTER, { json: first })).status, 201);
  const before = await countRows(app, ACCOUNT_TABLES);
  const again = await app.request('POST', REGISTER, { json: newPerson({ handle: first.handle.toUpperCase() }) });
  assertError(t, again, 409, 'handle_exists', 'the handle exists!');
  t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
});

test.serial('password "123" gets 400 saying it is too short and easy to guess, and writes nothing', async (t) => {
  const before = await countRows(app, ACCOUNT_TABLES);
  const res = await app.request('POST', REGISTER, { json: newPerson({ password: '123' }) });
  assertError(t, res, 400, 'validation_failed', /password is too short: use at least 8 characters \(it has 3\)/);
  t.regex(res.body.status, /password is too easy to guess/);
  t.true(res.body.details.every((d: { path: string }) => d.path === 'password'));
  t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
});

for (const password of ['password', '12345678', 'PASSWORD1', 'iloveyou']) {
  test(`the common password "${password}" is refused with the reason`, async (t) => {
    const res = await app.request('POST', REGISTER, { json: newPerson({ password }) });
    assertError(t, res, 400, 'validation_failed', /password is one of the most common passwords/);
  });
}

test.serial('a password that repeats the e-mail address or one character is refused', async (t) => {
  const p = newPerson();
  assertError(
    t,
    await app.request('POST', REGISTER, { json: { ...p, password: p.email } }),
    400,
    'validation_failed',
    /must not be your email, handle or name/,
  );
  assertError(
    t,
    await app.request('POST', REGISTER, { json: newPerson({ password: 'zzzzzzzzzzzz' }) }),
    400,
    'validation_failed',
    /Repeated characters like "aaa" are easy to guess/,
  );
});

for (const password of ['password123', 'Password1!', 'qwerty123456']) {
  test.serial(`the guessable password "${password}" is refused with the estimator's feedback, and writes nothing`, async (t) => {
    const before = await countRows(app, ACCOUNT_TABLES);
    const res = await app.request('POST', REGISTER, { json: newPerson({ password }) });
    assertError(t, res, 400, 'validation_failed', /password is one of the most common passwords/);
    const [detail] = res.body.details;
    t.is(detail.path, 'password');
    // zxcvbn's own warning and suggestion are in the answer, not only our sentence.
    t.regex(detail.message, /commonly used password/);
    t.regex(detail.message, /Add more words that are less common/);
    t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
  });
}

test('a password made of the person’s own name and handle is refused, though long', async (t) => {
  const p = newPerson({ name: 'Grace Brewster Hopper' });
  for (const password of [p.handle, `${p.handle}${p.handle}`, 'gracebrewsterhopper', 'Hopper, Grace Brewster', `Hopper ${p.handle}`]) {
    const res = await app.request('POST', REGISTER, { json: { ...p, password } });
    assertError(t, res, 400, 'validation_failed', /password must not be your email, handle or name, nor be made of them/);
  }
  t.is((await app.request('POST', REGISTER, { json: { ...p, password: 'grace sails the quiet harbour' } })).status, 201);
});

test('a long passphrase is accepted, and the length rules stay', async (t) => {
  t.is((await app.request('POST', REGISTER, { json: newPerson({ password: 'marmalade lighthouse sings under seventeen umbrellas' }) })).status, 201);
  assertError(t, await app.request('POST', REGISTER, { json: newPerson({ password: 'Qx7!vb' }) }), 400, 'validation_failed', /password is too short/);
  assertError(
    t,
    await app.request('POST', REGISTER, { json: newPerson({ password: 'lighthouse '.repeat(24) }) }),
    400,
    'validation_failed',
    /password is too long: use at most 256 characters/,
  );
});

test('a long passphrase without digits or symbols is accepted: no composition rules', async (t) => {
  const res = await app.request('POST', REGISTER, { json: newPerson({ password: 'purple elephants dance quietly' }) });
  t.is(res.status, 201, res.text);
});

test.serial('a malformed e-mail address and a bad handle are refused with what to fix', async (t) => {
  const before = await countRows(app, ACCOUNT_TABLES);
  const res = await app.request('POST', REGISTER, { json: newPerson({ email: 'not-an-address', handle: 'a b' }) });
  assertError(t, res, 400, 'validation_failed');
  const paths = res.body.details.map((d: { path: string }) => d.path);
  t.true(paths.includes('email'));
  t.true(paths.includes('handle'));
  t.regex(res.body.status, /email must be an e-mail address like name@example.com/);
  t.regex(res.body.status, /handle must be 3 to 30 letters/);
  t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
});

test('missing and unknown fields are named', async (t) => {
  const missing = await app.request('POST', REGISTER, { json: { name: 'A', email: 'a@example.com' } });
  assertError(t, missing, 400, 'validation_failed');
  t.deepEqual(missing.body.details.map((d: { path: string }) => d.path).sort(), ['handle', 'password']);
  const unknown = await app.request('POST', REGISTER, { json: { ...newPerson(), role: 'admin' } });
  assertError(t, unknown, 400, 'validation_failed', /role is not a known field/);
});

test.serial('a password in the query string is refused before anything else', async (t) => {
  const res = await app.request('POST', `${REGISTER}?password=${encodeURIComponent(STRONG_PASSWORD)}`, { json: newPerson() });
  assertError(t, res, 400, 'credential_in_query', /never put password in the URL/);
});

const privateKeys = {
  'PKCS#8 RSA': generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  'PKCS#1 RSA': generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  'SEC1 EC': generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
  'Ed25519 with its public key beside it':
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() +
    generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

for (const [label, pem] of Object.entries(privateKeys)) {
  test.serial(`a private key (${label}) is refused with 400, never stored, echoed or logged`, async (t) => {
    const before = await countRows(app, ACCOUNT_TABLES);
    const res = await app.request('POST', REGISTER, { json: { ...newPerson(), public_key: pem } });
    assertError(t, res, 400, 'private_key_refused', /this is a PRIVATE key: never send a private key/);
    const body = pem.split('\n')[1];
    t.false(res.text.includes(body), 'the key is not echoed');
    t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
    t.false(readFileSync(logFileFor('accounts-registerUser'), 'utf8').includes(body), 'the key is not logged');
  });
}

const publicKeys = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
  'ec P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  'ec P-384': generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
  ed25519: generateKeyPairSync('ed25519').publicKey,
};

for (const [label, key] of Object.entries(publicKeys)) {
  test(`a ${label} public key is validated and stored`, async (t) => {
    const pem = key.export({ type: 'spki', format: 'pem' }).toString();
    const res = await app.request('POST', REGISTER, { json: { ...newPerson(), public_key: pem } });
    t.is(res.status, 201, res.text);
    const me = await app.request('GET', '/api/v1/auth/me', { token: res.body.token });
    t.is(me.body.public_key.type, label.split(' ')[0]);
    t.regex(me.body.public_key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    t.is(me.body.public_key.pem, pem);
  });
}

test.serial('a PKCS#1 "RSA PUBLIC KEY" is accepted and stored as SPKI', async (t) => {
  const key = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey;
  const res = await app.request('POST', REGISTER, { json: { ...newPerson(), public_key: key.export({ type: 'pkcs1', format: 'pem' }).toString() } });
  t.is(res.status, 201, res.text);
  const me = await app.request('GET', '/api/v1/auth/me', { token: res.body.token });
  t.is(me.body.public_key.pem, key.export({ type: 'spki', format: 'pem' }).toString());
});

const badPublicKeys: Record<string, [string, RegExp]> = {
  'RSA of 1024 bits': [
    generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    /this RSA key has 1024 bits: use at least 2048/,
  ],
  'EC secp256k1': [
    generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    /EC curve secp256k1 is not accepted: use P-256 or P-384/,
  ],
  X25519: [generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(), /x25519 keys are not accepted/],
  'an OpenSSH key': ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ada@host', /ssh-keygen -e -m PKCS8/],
  'no PEM at all': ['hello', /is not a PEM public key/],
  'a damaged PEM': ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', /does not decode to a public key/],
};

for (const [label, [pem, message]] of Object.entries(badPublicKeys)) {
  test.serial(`public_key refused: ${label}`, async (t) => {
    const before = await countRows(app, ACCOUNT_TABLES);
    const res = await app.request('POST', REGISTER, { json: { ...newPerson(), public_key: pem } });
    assertError(t, res, 400, 'validation_failed', message);
    t.is(res.body.details[0].path, 'public_key');
    t.deepEqual(await countRows(app, ACCOUNT_TABLES), before);
  });
}

test('biometrics are stored only sealed and never returned or logged', async (t) => {
  const template = `bio-template-${'x7Q'.repeat(40)}`;
  const res = await app.request('POST', REGISTER, { json: { ...newPerson(), biometrics: template } });
  t.is(res.status, 201, res.text);
  t.false(res.text.includes(template));
  const row = await app.service.deps.db('users').where({ id: res.body.user_id }).first();
  t.truthy(row.biometrics);
  t.false(Buffer.from(row.biometrics).toString('latin1').includes('x7Qx7Q'), 'sealed, not stored in the clear');
  const me = await app.request('GET', '/api/v1/auth/me', { token: res.body.token });
  t.true(me.body.biometrics_enrolled);
  t.false(me.text.includes('x7Qx7Q'));
  const audit = await app.service.deps.db('audit_events').select('data');
  t.false(JSON.stringify(audit).includes('x7Qx7Q'));
  t.false(readFileSync(logFileFor('accounts-registerUser'), 'utf8').includes('x7Qx7Q'));
});

test('two registrations racing for one address: one account, one 409', async (t) => {
  const email = newPerson().email;
  const [a, b] = await Promise.all([
    app.request('POST', REGISTER, { json: newPerson({ email }) }),
    app.request('POST', REGISTER, { json: newPerson({ email }) }),
  ]);
  t.deepEqual([a.status, b.status].sort(), [201, 409]);
  const loser = a.status === 409 ? a : b;
  t.is(loser.body.status, 'the email exists!');
});

test('registrations are limited per client address: past the limit 429 with Retry-After, nothing written, other addresses unaffected', async (t) => {
  const limited = await startTestApp({ name: 'accounts-registerUser-limit', env: { REGISTRATIONS_PER_ADDRESS: '3', TRUST_PROXY: 'true' } });
  t.teardown(() => limited.close());
  const from = (address: string, person = newPerson()) =>
    limited.request('POST', REGISTER, { json: person, headers: { 'x-forwarded-for': address } });
  const first = newPerson();
  t.is((await from('198.51.100.9', first)).status, 201);
  t.is((await from('198.51.100.9')).status, 201);
  // A taken address counts too: the 409 says an account has it.
  assertError(t, await from('198.51.100.9', newPerson({ email: first.email })), 409, 'email_exists');
  // Invalid input does not: it mails nothing and says nothing about anyone.
  assertError(t, await from('198.51.100.9', newPerson({ password: '123' })), 400, 'validation_failed');
  const before = await countRows(limited, ACCOUNT_TABLES);
  const refused = await from('198.51.100.9');
  assertError(t, refused, 429, 'too_many_requests', /too many registrations from your address: wait \d+ minute\(s\)/);
  const retryAfter = Number(refused.headers.get('retry-after'));
  t.true(retryAfter > 15 * 60 && retryAfter <= 60 * 60, `Retry-After ${retryAfter}`);
  t.deepEqual(await countRows(limited, ACCOUNT_TABLES), before);
  t.is((await from('203.0.113.9')).status, 201);
});
