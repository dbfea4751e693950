import test from 'ava';
import { loadCatalogue } from '../../src/policy/catalogue.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register, type Registered } from '../accounts/fixtures.ts';
import { png, upload } from './fixtures.ts';

const app = useTestApp();

const catalogue = loadCatalogue();

/** A value for every writable field, each holding a marker that must never leak. */
const VALUES: Record<string, unknown> = {
  name: 'Marker Name-N4ME',
  given_name: 'Given-G1VEN',
  family_name: 'Family-F4MILY',
  bio: 'Bio-B10',
  website: 'https://example.com/w3bsite',
  locale: 'en-CA',
  phone: '+15550104242',
  gender: 'Gender-G3NDER',
  date_of_birth: '1984-07-12',
  home_address: { street_address: 'Street-STR33T', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z5', country: 'CA' },
  nationality: 'NZ',
  drivers_license_number: 'DL-D1CENSE',
  passport_number: 'PP-P4SSPORT',
  national_id: 'NID-N4TIONAL',
  blood_type: 'AB-',
  allergies: ['Allergy-4LLERGY'],
  medications: ['Med-M3DICATION'],
  medical_conditions: ['Cond-C0NDITION'],
  immunizations: ['Imm-1MMUNIZATION'],
  emergency_contact: { name: 'Contact-C0NTACT', phone: '+15550109999', relationship: 'sibling' },
  employer: 'Employer-3MPLOYER',
  occupation: 'Occupation-0CCUPATION',
};

/** Someone with a value in every field of the catalogue (the avatar uploaded, derived fields through their source). */
async function fullProfile(): Promise<Registered> {
  const session = await register(app);
  const res = await app.request('PUT', '/api/v1/profile/update-info', { token: session.token, json: { updated_fields: VALUES } });
  if (res.status !== 200) throw new Error(res.text);
  await app.request('PUT', '/api/v1/profile/avatar', { token: session.token, multipart: upload(await png(), 'me.png', 'image/png') });
  return session;
}

async function setRings(session: Registered, rings: Record<string, string>) {
  const db = app.service.deps.db;
  for (const [field, ring] of Object.entries(rings)) {
    // What the rings API will do: a field without a row gets one with no value.
    await db('profile_fields')
      .insert({ profile_id: session.profile_id, field, value: null, ring })
      .onConflict(['profile_id', 'field'])
      .merge(['ring']);
  }
}

function yearsSince1984July12(): number {
  const now = new Date();
  const beforeBirthday = now.getUTCMonth() < 6 || (now.getUTCMonth() === 6 && now.getUTCDate() < 12);
  return now.getUTCFullYear() - 1984 - (beforeBirthday ? 1 : 0);
}

const allFields = [...catalogue.fields.keys()];
const publicByDefault = allFields.filter((f) => catalogue.fields.get(f)!.ring === 'public');

test('with the default rings the public profile holds exactly the public fields, for every field of the catalogue', async (t) => {
  t.true(
    allFields.every((f) => f === 'avatar' || f === 'email' || f === 'handle' || catalogue.fields.get(f)!.derivedFrom || f in VALUES),
    'the fixture covers the catalogue',
  );
  const session = await fullProfile();
  const res = await app.request('GET', `/api/v1/profiles/${session.person.handle}`);
  t.is(res.status, 200, res.text);
  t.deepEqual(Object.keys(res.body.profile.fields).sort(), publicByDefault.sort());
  for (const field of allFields) {
    const isPublic = catalogue.fields.get(field)!.ring === 'public';
    t.is(field in res.body.profile.fields, isPublic, `${field} shown iff public`);
  }
  for (const [field, value] of Object.entries(VALUES)) {
    if (publicByDefault.includes(field)) continue;
    for (const marker of JSON.stringify(value).match(/[A-Za-z0-9-]*[A-Z0-9]{4,}[A-Za-z0-9-]*/g) ?? []) {
      if (['CA', 'BC'].includes(marker)) continue;
      t.false(res.text.includes(marker), `${field} (${marker}) never leaks`);
    }
  }
  t.false(res.text.includes(session.person.email), 'never the e-mail address');
  t.false(res.text.includes('1984'), 'never the birth date');
  t.false(res.text.includes('Burnaby'), 'never the address');
  t.is(res.body.profile.fields.bio, 'Bio-B10');
  t.regex(res.body.profile.fields.avatar, /\/api\/v1\/profiles\/.+\/avatar\?v=/);
});

for (const field of allFields.filter((f) => f !== 'handle')) {
  test(`moving ${field} into the public ring shows it, and it alone`, async (t) => {
    const session = await fullProfile();
    const closed = Object.fromEntries(allFields.filter((f) => f !== 'handle').map((f) => [f, 'private']));
    await setRings(session, { ...closed, [field]: 'public' });
    const res = await app.request('GET', `/api/v1/profiles/${session.person.handle}`);
    t.is(res.status, 200, res.text);
    t.deepEqual(Object.keys(res.body.profile.fields).sort(), ['handle', field].sort());
    if (field === 'age') t.is(res.body.profile.fields.age, yearsSince1984July12());
    if (field === 'age_over_18') t.true(res.body.profile.fields.age_over_18);
    if (field === 'email') t.is(res.body.profile.fields.email, session.person.email);
    if (field in VALUES) t.deepEqual(res.body.profile.fields[field], VALUES[field]);
  });
}

test('a field moved to a custom ring is not public', async (t) => {
  const session = await fullProfile();
  await setRings(session, { bio: 'custom:3f0e4c55-7a7b-4b53-b7c2-7c1b1a0e9d11' });
  const res = await app.request('GET', `/api/v1/profiles/${session.person.handle}`);
  t.false('bio' in res.body.profile.fields);
});

test('someone whose handle is not public is not found', async (t) => {
  const session = await fullProfile();
  await setRings(session, { handle: 'semi-private' });
  assertError(t, await app.request('GET', `/api/v1/profiles/${session.person.handle}`), 404, 'user_not_found', 'user not found');
});

test('handles are looked up whatever their case; an unknown one is 404 "user not found"', async (t) => {
  const session = await register(app);
  const res = await app.request('GET', `/api/v1/profiles/${session.person.handle.toUpperCase()}`);
  t.is(res.status, 200);
  t.is(res.body.profile.handle, session.person.handle);
  assertError(t, await app.request('GET', '/api/v1/profiles/no_such_person'), 404, 'user_not_found', 'user not found');
});
