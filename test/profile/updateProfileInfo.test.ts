import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, countRows, mailsTo, mailTo, newPerson, register, verificationCode } from '../accounts/fixtures.ts';

const app = useTestApp({ smtp: true });

const UPDATE = '/api/v1/profile/update-info';
const profileOf = async (token: string) => (await app.request('GET', '/api/v1/profile', { token })).body;

test('seed API 7: the home address changes, checked against the catalogue, and the version counts it', async (t) => {
  const session = await register(app);
  const address = { street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z5', country: 'ca' };
  const res = await app.request('PUT', UPDATE, {
    token: session.token,
    json: { updated_fields: { home_address: address, bio: '  Mathematician.  ' } },
  });
  t.is(res.status, 200, res.text);
  t.like(res.body, { status: 'success', profile_id: session.profile_id, version: 2, email_verification_sent: false });
  t.deepEqual(res.body.updated_fields.sort(), ['bio', 'home_address']);
  const profile = await profileOf(session.token);
  t.deepEqual(profile.fields.home_address.value, { ...address, country: 'CA' });
  t.is(profile.fields.bio.value, 'Mathematician.');
  t.is(profile.fields.bio.provenance, 'user');
  t.is(profile.version, 2);
  // Sealed at rest.
  const row = await app.service.deps.db('profile_fields').where({ profile_id: session.profile_id, field: 'home_address' }).first();
  t.false(Buffer.from(row.value).toString('latin1').includes('Kingsway'));
  const [event] = (await auditEvents(app, 'profile.update')).filter((e) => e.subject === `user:${session.user_id}`);
  t.deepEqual(event.data.fields, ['home_address', 'bio']);
  t.false(JSON.stringify(event).includes('Kingsway'), 'the audit names fields, not values');
});

test('POST answers 405 "put required", as in the seed', async (t) => {
  const session = await register(app);
  const res = await app.request('POST', UPDATE, { token: session.token, json: { updated_fields: { bio: 'x' } } });
  assertError(t, res, 405, 'method_not_allowed', 'put required');
  t.is(res.headers.get('allow'), 'PUT');
});

test.serial('an unknown field is named in a 400, and nothing is written, not even the valid fields beside it', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['profile_fields', 'audit_events', 'outbox']);
  const res = await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { bio: 'fine', shoe_size: 44 } } });
  assertError(t, res, 400, 'validation_failed', /updated_fields\.shoe_size is not a profile field/);
  t.deepEqual(res.body.details, [
    { path: 'updated_fields.shoe_size', message: 'is not a profile field: GET /api/v1/profile lists the fields there are' },
  ]);
  t.deepEqual(await countRows(app, ['profile_fields', 'audit_events', 'outbox']), before);
  const profile = await profileOf(session.token);
  t.is(profile.fields.bio.value, null);
  t.is(profile.version, 1);
});

const badValues: [string, unknown, RegExp][] = [
  ['phone', '555-1234', /E\.164/],
  ['website', 'ftp://example.com', /http or https/],
  ['website', 'not a url', /must be a URL/],
  ['date_of_birth', '1990-02-30', /is not a calendar date/],
  ['date_of_birth', '2999-01-01', /cannot be in the future/],
  ['date_of_birth', '01/02/1990', /YYYY-MM-DD/],
  ['nationality', 'XX', /ISO 3166-1/],
  ['blood_type', 'C+', /must be one of A\+/],
  ['allergies', 'peanuts', /must be a list/],
  ['allergies', ['peanuts', ''], /updated_fields\.allergies\.1 is empty/],
  ['locale', 'not_a_locale!', /BCP 47/],
  ['home_address', { street_address: '1 Main St', planet: 'Mars' }, /home_address\.planet is not part of home_address/],
  ['home_address', 'Burnaby', /must be an object/],
  ['emergency_contact', { name: 'Bob', phone: '12' }, /emergency_contact\.phone must be a phone number/],
  ['age', 40, /is computed from date_of_birth/],
  ['avatar', 'https://example.com/me.png', /PUT \/api\/v1\/profile\/avatar/],
  ['email', 'nope', /must be an e-mail address/],
  ['handle', 'x', /3 to 30 letters/],
  ['name', null, /cannot be removed/],
  ['name', 'line\nbreak', /control characters/],
  ['bio', 'x'.repeat(2001), /too long/],
];

for (const [field, value, message] of badValues) {
  test.serial(`${field} = ${JSON.stringify(value).slice(0, 40)} is refused by its type, writing nothing`, async (t) => {
    const session = await register(app);
    const before = await countRows(app, ['profile_fields', 'audit_events']);
    const res = await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { [field]: value } } });
    assertError(t, res, 400, 'validation_failed', message);
    t.true(res.body.details.every((d: { path: string }) => d.path.startsWith(`updated_fields.${field}`)));
    t.deepEqual(await countRows(app, ['profile_fields', 'audit_events']), before);
  });
}

test('values are normalized: phone numbers, countries, locales, URLs', async (t) => {
  const session = await register(app);
  const res = await app.request('PUT', UPDATE, {
    token: session.token,
    json: {
      updated_fields: { phone: '+1 (555) 123-4567', nationality: 'gb', locale: 'en-ca', website: 'https://Example.com', allergies: [' peanuts '] },
    },
  });
  t.is(res.status, 200, res.text);
  const { fields } = await profileOf(session.token);
  t.is(fields.phone.value, '+15551234567');
  t.is(fields.nationality.value, 'GB');
  t.is(fields.locale.value, 'en-CA');
  t.is(fields.website.value, 'https://example.com/');
  t.deepEqual(fields.allergies.value, ['peanuts']);
});

test('null removes a value; an empty updated_fields is refused', async (t) => {
  const session = await register(app);
  await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { bio: 'temporary' } } });
  t.is((await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { bio: null } } })).status, 200);
  t.is((await profileOf(session.token)).fields.bio.value, null);
  assertError(
    t,
    await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: {} } }),
    400,
    'validation_failed',
    /updated_fields is empty/,
  );
  assertError(t, await app.request('PUT', UPDATE, { token: session.token, json: {} }), 400, 'validation_failed', /updated_fields is required/);
});

test('seed clients may send a form with the token and updated_fields as JSON text', async (t) => {
  const session = await register(app);
  const res = await app.request('PUT', UPDATE, { form: { token: session.token, updated_fields: JSON.stringify({ occupation: 'Engineer' }) } });
  t.is(res.status, 200, res.text);
  t.is((await profileOf(session.token)).fields.occupation.value, 'Engineer');
  assertError(
    t,
    await app.request('PUT', UPDATE, { form: { token: session.token, updated_fields: '{not json' } }),
    400,
    'validation_failed',
    /updated_fields must be an object/,
  );
});

/** The code of the `n`th verification mail to `to` (1 is the first), once it has arrived. */
async function nthCode(to: string, n: number): Promise<string> {
  for (let tries = 0; tries < 200 && mailsTo(app, to, /verification code/).length < n; tries++) await new Promise((r) => setTimeout(r, 50));
  const mail = mailsTo(app, to, /verification code/)[n - 1];
  if (!mail) throw new Error(`no verification mail number ${n} to ${to}`);
  return /is: (\d{6})/.exec(mail.text ?? '')![1];
}

const loginWith = (email: string, password: string) => app.request('POST', '/api/v1/users/login', { json: { email, password } });

test('a new e-mail address needs the current password, and counts only once the code mailed to it is entered', async (t) => {
  const session = await register(app);
  const { email: old, password } = session.person;
  await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: await verificationCode(app, old) } });
  const fresh = newPerson().email;
  const change = (body: Record<string, unknown>) => app.request('PUT', UPDATE, { token: session.token, json: body });

  // A session alone cannot move the account: the password is asked for, and a wrong one is refused as in changePassword.
  const missing = await change({ updated_fields: { email: fresh, bio: 'moved' } });
  assertError(t, missing, 400, 'validation_failed', /current_password is required/);
  t.deepEqual(
    missing.body.details.map((d: { path: string }) => d.path),
    ['current_password'],
  );
  assertError(
    t,
    await change({ current_password: 'not my password', updated_fields: { email: fresh } }),
    400,
    'wrong_password',
    'current_password is not your current password',
  );
  t.is((await profileOf(session.token)).fields.bio?.value ?? null, null, 'a refused change writes nothing');

  // A taken address is refused (after the password).
  const taken = await register(app);
  assertError(
    t,
    await change({ current_password: password, updated_fields: { email: taken.person.email.toUpperCase() } }),
    409,
    'email_exists',
    'the email exists!',
  );

  const res = await change({ current_password: password, updated_fields: { email: fresh, bio: 'moved' } });
  t.is(res.status, 200, res.text);
  t.like(res.body, { email_verification_sent: true, email_change_pending: true, updated_fields: ['bio'] });
  await mailTo(app, old, /change of your Ringfence e-mail address was requested/);

  // Until the code is entered, everything keeps the old address.
  const before = await app.request('GET', '/api/v1/auth/me', { token: session.token });
  t.is(before.body.email, old);
  t.true(before.body.email_verified);
  t.is((await profileOf(session.token)).fields.email.value, old);
  assertError(t, await loginWith(fresh, password), 401, 'invalid_credentials');
  t.is((await loginWith(old, password)).status, 200);
  t.is((await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: fresh } })).status, 202);
  t.is((await app.request('POST', '/api/v1/auth/forgot-password', { json: { email: old } })).status, 202);
  await mailTo(app, old, /Reset your Ringfence password/);
  t.is(mailsTo(app, fresh, /Reset your Ringfence password/).length, 0, 'the pending address gets no reset mail');

  // A resend goes to the pending address; its newest code makes the change.
  const first = await nthCode(fresh, 1);
  await app.service.deps
    .db('email_verifications')
    .where({ user_id: session.user_id })
    .update({ sent_at: new Date(Date.now() - 120_000) });
  t.is((await app.request('POST', '/api/v1/auth/verify-email/resend', { token: session.token, json: {} })).status, 200);
  const second = await nthCode(fresh, 2);
  if (first !== second) {
    assertError(t, await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: first } }), 400, 'wrong_code');
  }
  const verified = await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: second } });
  t.is(verified.status, 200, verified.text);

  const after = await app.request('GET', '/api/v1/auth/me', { token: session.token });
  t.is(after.body.email, fresh);
  t.true(after.body.email_verified);
  t.is((await profileOf(session.token)).fields.email.value, fresh);
  t.is((await loginWith(fresh, password)).status, 200);
  assertError(t, await loginWith(old, password), 401, 'invalid_credentials');
  t.true((await auditEvents(app, 'email.changed')).some((e) => e.subject === `user:${session.user_id}`));
});

test('the same address in another case needs no password and no code', async (t) => {
  const session = await register(app);
  const res = await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { email: session.person.email.toUpperCase() } } });
  t.is(res.status, 200, res.text);
  t.like(res.body, { email_verification_sent: false, email_change_pending: false, updated_fields: ['email'] });
});

test('a new handle must be free whatever its case, and moves the public profile', async (t) => {
  const session = await register(app);
  const taken = await register(app);
  assertError(
    t,
    await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { handle: taken.person.handle.toUpperCase() } } }),
    409,
    'handle_exists',
    'the handle exists!',
  );
  const handle = `${session.person.handle}_2`;
  t.is((await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { handle } } })).status, 200);
  t.is((await app.request('GET', `/api/v1/profiles/${handle}`)).status, 200);
  assertError(t, await app.request('GET', `/api/v1/profiles/${session.person.handle}`), 404, 'user_not_found', 'user not found');
  // Changing only the case of one's own handle is not a conflict.
  t.is((await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { handle: handle.toUpperCase() } } })).status, 200);
});

test('update-info needs a token; an expired one is refused', async (t) => {
  assertError(t, await app.request('PUT', UPDATE, { json: { updated_fields: { bio: 'x' } } }), 401, 'token_missing', 'token must exist!');
  const session = await register(app);
  await app.service.deps
    .db('sessions')
    .where({ user_id: session.user_id })
    .update({ access_expires_at: new Date(Date.now() - 1) });
  assertError(
    t,
    await app.request('PUT', UPDATE, { token: session.token, json: { updated_fields: { bio: 'x' } } }),
    401,
    'token_expired',
    'token has expired!',
  );
});

test.serial('e-mail changes obey the resend rule: a second within a minute is 429 with Retry-After, mails no one, writes nothing', async (t) => {
  const session = await register(app);
  const { email: old, password } = session.person;
  await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: await verificationCode(app, old) } });
  const first = newPerson().email;
  const change = (email: string, bio: string) =>
    app.request('PUT', UPDATE, { token: session.token, json: { current_password: password, updated_fields: { email, bio } } });
  t.is((await change(first, 'first')).status, 200);
  await mailTo(app, first, /verification code/);

  const stranger = newPerson().email;
  const before = await countRows(app, ['outbox', 'email_verifications', 'audit_events']);
  const version = (await profileOf(session.token)).version;
  const tooSoon = await change(stranger, 'second');
  assertError(t, tooSoon, 429, 'too_many_requests', /a code was sent less than a minute ago: wait \d+ seconds/);
  t.true(Number(tooSoon.headers.get('retry-after')) > 0);
  t.deepEqual(await countRows(app, ['outbox', 'email_verifications', 'audit_events']), before);
  const profile = await profileOf(session.token);
  t.is(profile.version, version, 'the other fields of the refused update were not written');
  t.is(profile.fields.bio.value, 'first');
  t.is(mailsTo(app, stranger, /./).length, 0);

  // Once the minute has passed, the next change goes through.
  await app.service.deps
    .db('email_verifications')
    .where({ user_id: session.user_id })
    .update({ sent_at: new Date(Date.now() - 61_000) });
  t.is((await change(stranger, 'third')).status, 200);
  await mailTo(app, stranger, /verification code/);
});

test('seven e-mail changes at once mail one new address, and the rest are 429', async (t) => {
  const session = await register(app);
  const { email: old, password } = session.person;
  await app.request('POST', '/api/v1/auth/verify-email', { token: session.token, json: { code: await verificationCode(app, old) } });
  const strangers = Array.from({ length: 7 }, () => newPerson().email);
  const answers = await Promise.all(
    strangers.map((email) => app.request('PUT', UPDATE, { token: session.token, json: { current_password: password, updated_fields: { email } } })),
  );
  const statuses = answers.map((r) => r.status).sort();
  t.is(statuses.filter((s) => s === 200).length, 1, statuses.join(' '));
  t.true(
    statuses.every((s) => s === 200 || s === 429),
    statuses.join(' '),
  );
  // Only the change that went through mailed anyone: the refused ones wrote nothing to the outbox.
  const winner = strangers[answers.findIndex((r) => r.status === 200)];
  await mailTo(app, winner, /verification code/);
  await mailTo(app, old, /change of your Ringfence e-mail address/);
  t.deepEqual(
    strangers.filter((email) => mailsTo(app, email, /./).length > 0),
    [winner],
  );
  t.is((await app.service.deps.db('email_verifications').where({ user_id: session.user_id })).length, 1);
});

test.serial('a property named like an Object.prototype member is refused as not part of the field, in JSON, forms and multipart', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['profile_fields', 'audit_events']);
  for (const field of ['home_address', 'emergency_contact']) {
    for (const prop of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', 'isPrototypeOf']) {
      const text = `{"${field}":{"${prop}":"x"}}`;
      const json = await app.request('PUT', UPDATE, { token: session.token, raw: { body: `{"updated_fields":${text}}`, type: 'application/json' } });
      if (prop === '__proto__') {
        // The JSON body parser refuses __proto__ keys itself.
        assertError(t, json, 400, 'malformed_body');
      } else {
        assertError(t, json, 400, 'validation_failed');
        t.deepEqual(
          json.body.details.map((d: { path: string }) => d.path),
          [`updated_fields.${field}.${prop}`],
          json.text,
        );
      }
      const form = await app.request('PUT', UPDATE, { form: { token: session.token, updated_fields: text } });
      assertError(t, form, 400, 'validation_failed');
      const multipart = new FormData();
      multipart.set('updated_fields', text);
      const parts = await app.request('PUT', UPDATE, { token: session.token, multipart });
      assertError(t, parts, 400, 'validation_failed');
      t.deepEqual(
        parts.body.details.map((d: { path: string }) => d.path),
        [`updated_fields.${field}.${prop}`],
        parts.text,
      );
    }
  }
  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    const res = await app.request('PUT', UPDATE, {
      token: session.token,
      raw: { body: `{"updated_fields":{"${name}":"x"}}`, type: 'application/json' },
    });
    assertError(t, res, 400, 'validation_failed');
    t.deepEqual(res.body.details, [
      { path: `updated_fields.${name}`, message: 'is not a profile field: GET /api/v1/profile lists the fields there are' },
    ]);
  }
  t.deepEqual(await countRows(app, ['profile_fields', 'audit_events']), before);
});
