/**
 * Step 5: confirming a credential writes the chosen fields into the profile with their provenance — verified by
 * that credential when taken as read, self-asserted when corrected — and they are then ordinary profile fields,
 * released to a service the person granted through the existing pipeline (a real authorization in Chromium).
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { useBrowser } from '../helpers/browser.ts';
import { grantService, useCallback } from '../helpers/oidc.ts';
import { countRows, register } from '../accounts/fixtures.ts';
import { verifiedBy } from '../../src/profiles/provenance.ts';
import { credentialUpload, JANE, licencePhoto } from './fixtures.ts';

const app = useTestApp();
const browser = useBrowser();
const callback = useCallback();

async function addLicence(token: string, holder = JANE, payload = {}) {
  const photo = await licencePhoto(holder, { version: 9, ...payload }, { tilt: 12, blur: 1, quality: 65 });
  const res = await app.request('POST', '/api/v1/profile/add-credential', { token, multipart: credentialUpload(photo, "Driver's License") });
  if (res.status !== 201) throw new Error(`add-credential: ${res.status} ${res.text}`);
  return res.body;
}

const confirm = (token: string, id: string, json?: unknown) =>
  app.request('POST', `/api/v1/profile/credentials/${id}/confirm`, { token, ...(json === undefined ? {} : { json }) });

test.serial('confirm puts the date of birth into the profile marked verified by that credential, and a service reads it as a claim', async (t) => {
  const session = await register(app, { name: 'Jane Quinn Sample' });
  const added = await addLicence(session.token);
  const res = await confirm(session.token, added.credential_id);
  t.is(res.status, 200, res.text);
  t.is(res.body.state, 'confirmed');
  const dob = res.body.fields.find((f: { field: string }) => f.field === 'date_of_birth');
  t.deepEqual(dob, {
    field: 'date_of_birth',
    value: '1990-01-31',
    provenance: `credential:${added.credential_id}`,
    verified_by: `credential ${added.credential_id}`,
  });
  t.deepEqual(res.body.fields.map((f: { field: string }) => f.field).sort(), [
    'date_of_birth',
    'drivers_license_number',
    'family_name',
    'given_name',
    'home_address',
    'name',
  ]);

  // The owner's profile: the stored provenance (the contract selective disclosure reads) and a readable form.
  const profile = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.is(profile.status, 200);
  const field = profile.body.fields.date_of_birth;
  t.is(field.value, '1990-01-31');
  t.is(field.provenance, `credential:${added.credential_id}`);
  t.is(verifiedBy(field.provenance), added.credential_id);
  t.deepEqual(field.verification, {
    verified_by: `credential ${added.credential_id}`,
    credential_id: added.credential_id,
    credential_type: 'us_drivers_license',
    checks: ['structure', 'issuer_known', 'issuer_matches', 'not_expired', 'dates_plausible', 'name_matches_account'],
    authenticity_proven: false,
  });
  t.like(profile.body.fields.home_address.value, { locality: 'SACRAMENTO', postal_code: '95814' });
  t.is(profile.body.fields.email.verification, undefined, 'a self-asserted field has no verification');
  const row = await app.service.deps.db('profile_fields').where({ profile_id: session.profile_id, field: 'date_of_birth' }).first();
  t.is(row.provenance, `credential:${added.credential_id}`);
  const audit = await app.service.deps.db('audit_events').where({ action: 'credential.confirmed' }).orderBy('seq', 'desc').first();
  t.truthy(audit);

  // Released to a service like any other field: a government service granted `profile` reads `birthdate`.
  const granted = await grantService(
    app,
    browser,
    callback.url,
    { handle: session.person.handle, password: session.person.password },
    'government',
    'openid profile',
  );
  const data = await app.request('GET', '/api/v1/data/profile', { token: granted.dataTokens.access_token });
  t.is(data.status, 200, data.text);
  t.is(data.body.fields.date_of_birth, '1990-01-31');
  const userinfo = await client.fetchUserInfo(granted.config, granted.tokens.access_token, client.skipSubjectCheck);
  t.is(userinfo.birthdate, '1990-01-31', 'the OIDC claim too');
  t.notRegex(data.text, /credential_image|image_url|D1234567/, 'the service sees neither the image nor the unreleased licence number');
});

test('a corrected value is self-asserted, never verified; the rest stay verified', async (t) => {
  const session = await register(app, { name: 'Jane Sample' });
  const added = await addLicence(session.token);
  const res = await confirm(session.token, added.credential_id, {
    fields: ['date_of_birth', 'name', 'home_address'],
    corrections: { name: 'Jane Q. Sample', date_of_birth: '1990-01-31' },
  });
  t.is(res.status, 200, res.text);
  const by = Object.fromEntries(res.body.fields.map((f: { field: string; provenance: string }) => [f.field, f.provenance]));
  t.deepEqual(by, {
    date_of_birth: `credential:${added.credential_id}`, // the "correction" repeats the card: still verified
    name: 'user',
    home_address: `credential:${added.credential_id}`,
  });
  const profile = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.is(profile.body.fields.name.value, 'Jane Q. Sample');
  t.is(profile.body.fields.name.provenance, 'user');
  t.is(profile.body.fields.name.verification, undefined);
  t.is(profile.body.fields.drivers_license_number.value, null, 'a field not chosen is not written');
});

test.serial('a second confirmation, an unknown field, a bad correction or an expired card are refused, writing nothing', async (t) => {
  const session = await register(app);
  const added = await addLicence(session.token);
  const tables = ['profile_fields', 'credentials', 'audit_events'];
  const before = await countRows(app, tables);
  assertError(
    t,
    await confirm(session.token, added.credential_id, { corrections: { blood_type: 'O-' } }),
    400,
    'validation_failed',
    /not a field a credential sets/,
  );
  assertError(
    t,
    await confirm(session.token, added.credential_id, { corrections: { date_of_birth: '2999-01-01' } }),
    400,
    'validation_failed',
    /future/,
  );
  t.deepEqual(await countRows(app, tables), before);
  t.is((await confirm(session.token, added.credential_id)).status, 200);
  assertError(t, await confirm(session.token, added.credential_id), 409, 'credential_not_pending');

  const expired = await addLicence(session.token, { ...JANE, issued: '2009-01-01', expires: '2017-01-31' });
  assertError(t, await confirm(session.token, expired.credential_id), 409, 'credential_checks_failed', /not_expired/);
});

test("another person's credential is not found, and an unknown id is 404", async (t) => {
  const owner = await register(app);
  const other = await register(app);
  const added = await addLicence(owner.token);
  assertError(t, await confirm(other.token, added.credential_id), 404, 'credential_not_found');
  assertError(t, await confirm(owner.token, '00000000-0000-4000-8000-000000000000'), 404, 'credential_not_found');
  assertError(t, await confirm(owner.token, 'not-a-uuid'), 400);
});
