import test from 'ava';
import sharp from 'sharp';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, register } from '../accounts/fixtures.ts';
import { cardBack, credentialUpload, JANE, licencePhoto, PIERRE, pdf417, photograph } from './fixtures.ts';

const app = useTestApp();
const ADD = '/api/v1/profile/add-credential';
const TABLES = ['credentials', 'profile_fields', 'audit_events'];

test.serial('a tilted, blurred, JPEG-compressed licence photo gets 201 with the right date of birth, name, address and expiry', async (t) => {
  const session = await register(app, { name: 'Jane Quinn Sample' });
  const photo = await licencePhoto(JANE, { version: 10, zone: { type: 'ZC', elements: { ZCA: 'A' } } }, { tilt: 11, blur: 1.2, quality: 60 });
  const res = await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, "Driver's License") });
  t.is(res.status, 201, res.text);
  t.is(res.body.state, 'pending_confirmation');
  t.is(res.body.credential_type, 'us_drivers_license');
  t.like(res.body.extracted, {
    document_type: 'DL',
    document_number: 'D1234567',
    full_name: 'JANE QUINN SAMPLE',
    given_name: 'JANE',
    family_name: 'SAMPLE',
    date_of_birth: '1990-01-31',
    expiry_date: '2031-01-31',
    issue_date: '2022-02-01',
    sex: 'female',
    aamva_version: 10,
    issuer: { iin: '636014', jurisdiction: 'CA', name: 'California', country: 'USA' },
    jurisdiction_fields: { ZCA: 'A' },
  });
  t.deepEqual(res.body.extracted.address, {
    street_address: '123 MAIN ST',
    locality: 'SACRAMENTO',
    region: 'CA',
    postal_code: '95814',
    country: 'US',
  });
  t.deepEqual(
    res.body.checks.map((c: { check: string; passed: boolean | null }) => [c.check, c.passed]),
    [
      ['structure', true],
      ['issuer_known', true],
      ['issuer_matches', true],
      ['not_expired', true],
      ['dates_plausible', true],
      ['name_matches_account', true],
    ],
  );
  t.false(res.body.authenticity.proven);
  t.regex(res.body.authenticity.message, /not proven/);
  t.true(res.body.confirmable);
  t.like(res.body.proposed_fields, { name: 'JANE QUINN SAMPLE', date_of_birth: '1990-01-31', drivers_license_number: 'D1234567' });
  // Sealed at rest: neither the image nor a value of the card is in the row in the clear.
  const row = await app.service.deps.db('credentials').where({ id: res.body.credential_id }).first();
  const columns = JSON.stringify({ ...row, image: null, extraction: null, checks: null });
  const stored = Buffer.concat([Buffer.from(columns), Buffer.from(row.image), Buffer.from(row.extraction), Buffer.from(row.checks)]);
  for (const value of ['D1234567', 'SAMPLE', '1990-01-31', '2031-01-31', 'SACRAMENTO', 'California', '636014'])
    t.false(stored.includes(value), value);
  t.deepEqual(row.checks_passed, ['structure', 'issuer_known', 'issuer_matches', 'not_expired', 'dates_plausible', 'name_matches_account']);
  t.false(Buffer.from(row.image).includes(Buffer.from([0xff, 0xd8, 0xff])), 'the JPEG is sealed');
  const audit = await app.service.deps.db('audit_events').where({ action: 'credential.added' }).orderBy('seq', 'desc').first();
  t.notRegex(JSON.stringify(audit), /D1234567|1990-01-31|SAMPLE/, 'the audit names the checks, never the values');
});

test('old and new versions, a Canadian licence and an ID card are read', async (t) => {
  const session = await register(app, { name: 'Pierre Tremblay' });
  const cases = [
    { holder: JANE, version: 1, type: 'us_drivers_license', document: 'DL' as const },
    { holder: JANE, version: 8, type: 'us_drivers_license', document: 'DL' as const },
    { holder: PIERRE, version: 9, type: 'ca_drivers_license', document: 'DL' as const },
    { holder: JANE, version: 10, type: 'us_id_card', document: 'ID' as const },
  ];
  for (const c of cases) {
    const photo = await licencePhoto(c.holder, { version: c.version, document: c.document }, { tilt: -8, width: 1500, blur: 0.8, quality: 75 });
    const res = await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, c.type) });
    t.is(res.status, 201, `${c.type} v${c.version}: ${res.text}`);
    t.is(res.body.credential_type, c.type);
    t.is(res.body.extracted.aamva_version, c.version);
    t.is(res.body.extracted.date_of_birth, c.holder.dob);
    t.is(res.body.extracted.expiry_date, c.holder.expires);
  }
});

test('an expired licence is read, and its not_expired check fails; it is not confirmable', async (t) => {
  const session = await register(app, { name: 'Jane Sample' });
  const photo = await licencePhoto({ ...JANE, issued: '2010-01-31', expires: '2018-01-31' }, { version: 8 }, { tilt: 6 });
  const res = await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, 'us_drivers_license') });
  t.is(res.status, 201, res.text);
  const expired = res.body.checks.find((c: { check: string }) => c.check === 'not_expired');
  t.like(expired, { passed: false, message: 'the card expired on 2018-01-31' });
  t.false(res.body.confirmable);
});

test('a malformed card (a date that does not exist, a wrong issuer number) is read with its failed checks', async (t) => {
  const session = await register(app, { name: 'Someone Else' });
  const photo = await licencePhoto(JANE, { version: 9, iin: '636015', extra: { DBB: '02301990' } }, { tilt: 4 });
  const res = await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, "Driver's License") });
  t.is(res.status, 201, res.text);
  const byCheck = Object.fromEntries(res.body.checks.map((c: { check: string; passed: boolean | null }) => [c.check, c.passed]));
  t.like(byCheck, { structure: false, issuer_known: true, issuer_matches: false, dates_plausible: false, name_matches_account: false });
  t.false(res.body.confirmable);
});

test.serial('a photo with no barcode gets 422 saying to photograph the back of the card, flat, in good light; nothing is stored', async (t) => {
  const session = await register(app);
  const before = await countRows(app, TABLES);
  const photo = await photograph(await cardBack(undefined), { tilt: 5 });
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, "Driver's License") }),
    422,
    'barcode_unreadable',
    /photograph the back of the card, flat, in good light/,
  );
  t.deepEqual(await countRows(app, TABLES), before);
});

test.serial('a barcode that is not AAMVA data gets 422 naming what is wrong', async (t) => {
  const session = await register(app);
  const before = await countRows(app, TABLES);
  const card = await sharp(await cardBack(undefined))
    .composite([{ input: await pdf417('BOARDING PASS M1DOE/JOHN EABC123 YULJFK AC 0750'), left: 200, top: 200 }])
    .png()
    .toBuffer();
  const res = await app.request('POST', ADD, {
    token: session.token,
    multipart: credentialUpload(await photograph(card, { tilt: 3 }), "Driver's License"),
  });
  assertError(t, res, 422, 'not_aamva', /not North American licence or ID card \(AAMVA\) data: .*compliance indicator "@"/);
  t.deepEqual(await countRows(app, TABLES), before);
});

test('a card of another type than the one named gets 422 saying which it is', async (t) => {
  const session = await register(app);
  const photo = await licencePhoto(PIERRE, { version: 8 }, { tilt: 2 });
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, 'us_id_card') }),
    422,
    'credential_type_mismatch',
    /ca_drivers_license/,
  );
});

test("missing credential_type or credential_image gets the seed's 400", async (t) => {
  const session = await register(app);
  const photo = await licencePhoto(JANE, {}, { tilt: 0 });
  const message = 'credential_type,credential_image must exist!';
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, undefined) }),
    400,
    'credential_fields_missing',
    message,
  );
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(undefined, "Driver's License") }),
    400,
    'credential_fields_missing',
    message,
  );
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, json: { credential_type: "Driver's License" } }),
    400,
    'credential_fields_missing',
    message,
  );
  assertError(t, await app.request('POST', ADD, { token: session.token }), 400, 'credential_fields_missing', message);
});

test('an unknown type, a file that is not an image, or a damaged one is refused with 400 saying what to send', async (t) => {
  const session = await register(app);
  const photo = await licencePhoto(JANE, {}, { tilt: 0 });
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo, 'passport') }),
    400,
    'unknown_credential_type',
    /us_drivers_license/,
  );
  assertError(
    t,
    await app.request('POST', ADD, {
      token: session.token,
      multipart: credentialUpload(Buffer.from('%PDF-1.7 not a photo'), 'us_drivers_license', 'l.jpg'),
    }),
    400,
    'unsupported_image',
  );
  assertError(
    t,
    await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(photo.subarray(0, 2000), 'us_drivers_license') }),
    400,
    'invalid_image',
  );
});

test('a photo over 10 MB is refused with 413 before it is decoded', async (t) => {
  const session = await register(app);
  const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(10 * 1024 * 1024 + 10)]);
  const res = await app.request('POST', ADD, { token: session.token, multipart: credentialUpload(big, 'us_drivers_license') });
  t.is(res.status, 413, res.text);
});

test('without a session the answer is 401, and a file is not read', async (t) => {
  const photo = await licencePhoto(JANE, {}, { tilt: 0 });
  assertError(t, await app.request('POST', ADD, { multipart: credentialUpload(photo, 'us_drivers_license') }), 401);
});
