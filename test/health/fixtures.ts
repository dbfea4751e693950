/** People and FHIR records for the health tests. */
import { randomBytes } from 'node:crypto';
import type { TestApp } from '../helpers/app.ts';

export interface Person {
  userId: string;
  token: string;
  email: string;
  handle: string;
}

export async function register(app: TestApp, label: string): Promise<Person> {
  const tag = randomBytes(4).toString('hex');
  const email = `${label}.${tag}@example.org`;
  const handle = `${label}_${tag}`;
  const res = await app.request('POST', '/api/v1/users/register', {
    json: { name: `${label} Person`, email, handle, password: `health ${label} passphrase ${tag}` },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
  return { userId: res.body.user_id, token: res.body.token, email, handle };
}

export const immunization = (display = 'COVID-19 mRNA vaccine') => ({
  resourceType: 'Immunization',
  status: 'completed',
  vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '207', display }] },
  patient: { reference: 'Patient/example' },
  occurrenceDateTime: '2021-05-10',
  lotNumber: 'EL9262',
});

export const allergy = () => ({
  resourceType: 'AllergyIntolerance',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
  code: { text: 'Penicillin' },
  criticality: 'high',
  patient: { reference: 'Patient/example' },
  reaction: [{ manifestation: [{ text: 'Hives' }] }],
});

export const condition = () => ({
  resourceType: 'Condition',
  code: { text: 'Asthma (not to be shared)' },
  subject: { reference: 'Patient/example' },
  onsetDateTime: '2010-02-01',
});

export async function addRecord(app: TestApp, person: Person, resource: unknown): Promise<string> {
  const res = await app.request('POST', '/api/v1/profile/health-records', { token: person.token, json: resource });
  if (res.status !== 201) throw new Error(`record failed: ${res.text}`);
  return res.body.record.record_id;
}

/** The path token and the fragment key of an access link. */
export function partsOf(link: string): { token: string; key: string; path: string } {
  const url = new URL(link);
  return { token: url.pathname.split('/').pop()!, key: url.hash.slice(1), path: url.pathname };
}

/** The newest one-time code mailed to `to`. */
export async function codeFor(app: TestApp, to: string): Promise<string> {
  const isCode = (m: { subject?: string; to?: unknown }) => /^Your code to open/.test(m.subject ?? '') && JSON.stringify(m.to).includes(to);
  await app.smtp.waitFor(isCode);
  const all = app.smtp.messages.filter(isCode);
  const code = /code is: (\d{6})/.exec(all[all.length - 1].text ?? '')?.[1];
  if (!code) throw new Error('no code in the mail');
  return code;
}
