/** A person with a full profile on one instance, and that profile as its owner reads it, for the portable tests. */
import type { TestApp } from '../helpers/app.ts';
import { upload, png } from '../profile/fixtures.ts';
import type { Registered } from '../accounts/fixtures.ts';
import { addToRoster, grant, responderOrganisation } from '../emergency/fixtures.ts';
import { addService } from '../helpers/oidc.ts';

export const FIELDS = {
  given_name: 'Ada',
  family_name: 'Lovelace',
  phone: '+44 20 7946 0958',
  bio: 'Analyst of engines',
  website: 'https://ada.example.org/',
  locale: 'en-GB',
  gender: 'female',
  date_of_birth: '1985-12-10',
  home_address: { street_address: '12 St James Square', locality: 'London', postal_code: 'SW1Y 4JH', country: 'GB' },
  nationality: 'GB',
  passport_number: 'P1234567',
  blood_type: 'O-',
  allergies: ['penicillin', 'peanuts'],
  medications: ['none'],
  emergency_contact: { name: 'Mary Somerville', phone: '+44 20 7946 0000', relationship: 'friend' },
  employer: 'Analytical Engines Ltd',
  occupation: 'mathematician',
};

// biome-ignore lint/suspicious/noExplicitAny: the shape of each answer is checked against openapi.yaml by the test client.
async function ok(res: Promise<{ status: number; text: string; body: any }>, status = 200) {
  const r = await res;
  if (r.status !== status) throw new Error(`expected ${status}: ${r.status} ${r.text}`);
  return r.body;
}

/** Fills a profile: every field above, a custom ring, fields moved between rings, an avatar, a verified field. */
export async function fillProfile(app: TestApp, person: Registered): Promise<void> {
  const token = person.token;
  await ok(app.request('PUT', '/api/v1/profile/update-info', { token, json: { updated_fields: FIELDS } }));
  await ok(
    app.request('POST', '/api/v1/profile/privilege-rings', {
      token,
      json: {
        ring_name: 'My doctors',
        assigned_data: { fields: ['allergies', 'medications', 'blood_type'], roles: ['healthcare', 'emergency_responder'] },
      },
    }),
    201,
  );
  await ok(
    app.request('POST', '/api/v1/profile/privilege-rings', { token, json: { ring_name: 'restricted', assigned_data: { fields: ['phone'] } } }),
  );
  await ok(
    app.request('POST', '/api/v1/profile/privilege-rings', { token, json: { ring_name: 'public', assigned_data: { fields: ['occupation'] } } }),
  );
  await ok(app.request('PUT', '/api/v1/profile/avatar', { token, multipart: upload(await png(40, 30), 'me.png', 'image/png') }));
  for (const record of HEALTH_RECORDS) await ok(app.request('POST', '/api/v1/profile/health-records', { token, json: record }), 201);
  // A field verified on this instance (as a confirmed credential would mark it).
  await app.service.deps
    .db('profile_fields')
    .where({ profile_id: person.profile_id, field: 'passport_number' })
    .update({ provenance: 'credential:passport-0001' });
}

export const HEALTH_RECORDS = [
  {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '207' }] },
    patient: { reference: 'Patient/ada' },
    occurrenceDateTime: '2021-05-10',
  },
  {
    resourceType: 'AllergyIntolerance',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] },
    patient: { reference: 'Patient/ada' },
  },
];

export interface ProfileView {
  fields: Record<string, { value: unknown; ring: string; provenance: string | null }>;
  records: unknown[];
  rings: { name: string; roles: string[] }[];
  avatar: string | null;
}

/** The owner's view of the profile, custom rings named by their names (their ids differ between instances). */
export async function profileView(app: TestApp, token: string): Promise<ProfileView> {
  const profile = await ok(app.request('GET', '/api/v1/profile', { token }));
  const rings = await ok(app.request('GET', '/api/v1/profile/privilege-rings', { token }));
  const custom = (rings.rings as { ring_id: string; name: string; kind: string; admits: { roles: string[] } }[]).filter((r) => r.kind === 'custom');
  const names = new Map(
    custom.flatMap((r) => [[`custom:${r.ring_id}`, `custom ring ${r.name}`] as const, [r.ring_id, `custom ring ${r.name}`] as const]),
  );
  const fields: ProfileView['fields'] = {};
  for (const [name, f] of Object.entries(profile.fields as Record<string, { value: unknown; ring: string; provenance: string | null }>)) {
    // The avatar's value is its URL on the instance that serves it.
    const value = typeof f.value === 'string' ? f.value.replace(app.url, '<instance>') : f.value;
    fields[name] = { value, ring: names.get(f.ring) ?? f.ring, provenance: f.provenance };
  }
  const me = await ok(app.request('GET', '/api/v1/auth/me', { token }));
  const avatar = await app.request('GET', `/api/v1/profiles/${me.handle}/avatar`, { unchecked: true });
  const records = await ok(app.request('GET', '/api/v1/profile/health-records', { token }));
  return {
    fields,
    // Their ids are each instance's own.
    records: (records.records as { resource: Record<string, unknown> }[]).map(({ resource: { id: _id, ...rest } }) => rest),
    rings: custom.map((r) => ({ name: r.name, roles: [...r.admits.roles].sort() })).sort((x, y) => x.name.localeCompare(y.name)),
    avatar: avatar.status === 200 ? Buffer.from(avatar.text, 'latin1').toString('base64') : null,
  };
}

export const LEASE = {
  kind: 'lease',
  title: 'Flat lease',
  fields: { landlord: 'Kingsway Rentals Ltd', rent: 1850, furnished: false },
  references: ['home_address', 'phone'],
  roles: ['government'],
};

export const POLICY = {
  kind: 'insurance_policy',
  title: 'Health insurance',
  fields: { insurer: 'Mutual Assurance', policy_number: 'HI-99812' },
  references: ['date_of_birth', 'blood_type'],
  roles: ['healthcare', 'commercial'],
};

export const SETUP = {
  trusted_contacts: [
    { name: 'Mary Somerville', email: 'mary@example.org', phone: '+442079460000' },
    { name: 'Charles Babbage', email: 'charles@example.org' },
  ],
  emergency_info: {
    blood_type: 'O-',
    allergies: ['penicillin'],
    medications: ['insulin glargine 20 IU nightly'],
    conditions: ['type 1 diabetes'],
    notes: 'Carries glucose tablets in the left pocket',
    profile_fields: ['emergency_contact', 'home_address'],
  },
  criteria: { conditions: ['unconsciousness', 'unable_to_communicate'], access_minutes: 30 },
  public_text: 'Diabetic, see Ringfence',
};

/**
 * Fills what the features hold beyond the profile: two documents (one linked to a service of this instance), an
 * emergency setup whose second contact declined, and one opening of it by a responder (an access log entry).
 */
export async function fillFeatures(app: TestApp, person: Registered): Promise<{ serviceId: string }> {
  const token = person.token;
  const { service } = await addService(app, 'government');
  await ok(app.request('POST', '/api/v1/profile/documents', { token, json: { ...LEASE, services: [service.client_id] } }), 201);
  await ok(app.request('POST', '/api/v1/profile/documents', { token, json: POLICY }), 201);
  const setup = await ok(app.request('POST', '/api/v1/profile/emergency-access', { token, json: SETUP }), 201);
  // Charles declined (as with the token of the mail that named him).
  const shown = await ok(app.request('GET', '/api/v1/profile/emergency-access', { token }));
  const charles = (shown.trusted_contacts as { id: string; email: string }[]).find((c) => c.email === 'charles@example.org')!;
  await app.service.deps.db('emergency_contacts').where({ id: charles.id, access_id: setup.access_id }).update({ declined_at: new Date() });
  const org = await responderOrganisation(app);
  await addToRoster(app, org, { responder_id: 'R-100', name: 'Sam Medic', licence: 'EMT-100' });
  await ok(grant(app, org, { responder_id: 'R-100', reason: 'found unconscious', email: person.person.email, criterion: 'unconsciousness' }));
  return { serviceId: service.client_id };
}

// biome-ignore lint/suspicious/noExplicitAny: answers checked against openapi.yaml by the test client.
type Json = any;

/** The owner's credentials, documents and emergency setup as their API answers, ids and instance-bound parts left out. */
export async function featuresView(app: TestApp, token: string) {
  const list = await ok(app.request('GET', '/api/v1/profile/credentials', { token }));
  const credentialIds: string[] = list.credentials.map((c: Json) => c.credential_id);
  const credentials: Json[] = [];
  const images: string[] = [];
  for (const id of credentialIds) {
    const { credential_id: _id, image_url: _url, ...shown } = await ok(app.request('GET', `/api/v1/profile/credentials/${id}`, { token }));
    credentials.push(shown);
    const image = await app.request('GET', `/api/v1/profile/credentials/${id}/image`, { token, unchecked: true });
    images.push(Buffer.from(image.text, 'latin1').toString('base64'));
  }
  const docs = await ok(app.request('GET', '/api/v1/profile/documents', { token }));
  const documents = (docs.documents as Json[])
    .map(({ document_id: _id, ...d }) => d)
    .sort((x: Json, y: Json) => String(x.title).localeCompare(String(y.title)));
  const {
    access_id: _access,
    created_at: _c,
    updated_at: _u,
    ...setup
  } = await ok(app.request('GET', '/api/v1/profile/emergency-access', { token }));
  const emergency = { ...setup, trusted_contacts: (setup.trusted_contacts as Json[]).map(({ id: _cid, ...c }) => c) };
  return { credentialIds, credentials, images, documents: documents as Json[], emergency };
}
