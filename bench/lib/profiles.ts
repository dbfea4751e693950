/**
 * Realistic profile values for benchmark user n: every writable field of the catalogue, deterministic per n, of
 * the lengths real people's values have (a short bio, an address, a few allergies). Each value is put through the
 * service's own field checks, so what is stored is exactly what the API would have stored.
 */
import type { Catalogue } from '../../src/policy/catalogue.ts';
import { checkFieldValue } from '../../src/profiles/values.ts';

const GIVEN = [
  'Ada',
  'Grace',
  'Alan',
  'Katherine',
  'Tim',
  'Margaret',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'Linus',
  'Radia',
  'Ken',
  'Hedy',
  'Dennis',
  'Annie',
];
const FAMILY = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Berners-Lee',
  'Hamilton',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Torvalds',
  'Perlman',
  'Thompson',
  'Lamarr',
  'Ritchie',
  'Easley',
];
const CITIES: [string, string, string, string][] = [
  ['Toronto', 'ON', 'M5V 2T6', 'CA'],
  ['Montréal', 'QC', 'H2X 1Y4', 'CA'],
  ['Vancouver', 'BC', 'V6B 1A1', 'CA'],
  ['Seattle', 'WA', '98101', 'US'],
  ['Boston', 'MA', '02108', 'US'],
  ['London', 'England', 'EC1A 1BB', 'GB'],
  ['Lyon', 'Auvergne-Rhône-Alpes', '69002', 'FR'],
  ['Berlin', 'Berlin', '10115', 'DE'],
];
const STREETS = [
  'King Street West',
  'Rue Sainte-Catherine',
  'Granville Street',
  'Pike Street',
  'Beacon Street',
  'Old Street',
  'Rue de la République',
  'Invalidenstraße',
];
const LOCALES = ['en-CA', 'fr-CA', 'en-US', 'en-GB', 'fr-FR', 'de-DE'];
const GENDERS = ['female', 'male', 'non-binary', 'prefer not to say'];
const BLOOD = ['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'];
const ALLERGIES = ['penicillin', 'peanuts', 'shellfish', 'latex', 'bee stings', 'pollen', 'sulfa drugs', 'eggs'];
const MEDICATIONS = [
  'metformin 500 mg twice daily',
  'lisinopril 10 mg daily',
  'salbutamol inhaler as needed',
  'levothyroxine 50 mcg daily',
  'atorvastatin 20 mg daily',
];
const CONDITIONS = ['asthma', 'type 2 diabetes', 'hypertension', 'hypothyroidism', 'epilepsy', 'coeliac disease'];
const VACCINES = ['MMR (1990-05-01)', 'tetanus booster (2019-03-12)', 'influenza (2024-10-15)', 'hepatitis B series (2005)', 'COVID-19 (2023-09-30)'];
const EMPLOYERS = ['Northwind Health', 'Contoso Transit', 'City of Toronto', 'Fabrikam Labs', 'Tailspin Toys', 'Woodgrove Bank', 'self-employed'];
const OCCUPATIONS = ['nurse', 'software engineer', 'teacher', 'electrician', 'accountant', 'paramedic', 'architect', 'pharmacist'];
const RELATIONS = ['spouse', 'parent', 'sibling', 'friend', 'partner'];
const BIO_WORDS =
  'likes long walks cycling to work weekend baker amateur astronomer volunteers at the food bank reads science fiction plays cello in a community orchestra learning Japanese grows tomatoes on the balcony'.split(
    ' ',
  );

/** mulberry32: a tiny seeded generator, so user n always gets the same profile. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const handleOf = (n: number) => `user-${n}`;
export const emailOf = (n: number) => `user${n}@bench.example.com`;

/** Raw values (as a client would send them) for user n, by field name. */
function rawValues(n: number): Record<string, unknown> {
  const r = rng(n * 2654435761);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)];
  const some = <T>(list: readonly T[], max: number) => [...new Set(Array.from({ length: 1 + Math.floor(r() * max) }, () => pick(list)))];
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(r() * 10)).join('');
  const given = pick(GIVEN);
  const family = pick(FAMILY);
  const [city, region, postal, country] = pick(CITIES);
  const year = 1940 + Math.floor(r() * 65);
  const month = String(1 + Math.floor(r() * 12)).padStart(2, '0');
  const day = String(1 + Math.floor(r() * 28)).padStart(2, '0');
  const bio = Array.from({ length: 12 + Math.floor(r() * 30) }, () => pick(BIO_WORDS)).join(' ');
  return {
    name: `${given} ${family}`,
    given_name: given,
    family_name: family,
    handle: handleOf(n),
    email: emailOf(n),
    phone: `+1416${digits(7)}`,
    bio: `${bio[0].toUpperCase()}${bio.slice(1)}.`,
    website: `https://${given.toLowerCase()}-${n}.example.org/`,
    locale: pick(LOCALES),
    gender: pick(GENDERS),
    date_of_birth: `${year}-${month}-${day}`,
    home_address: {
      street_address: `${1 + Math.floor(r() * 2000)} ${pick(STREETS)}, apt ${1 + Math.floor(r() * 40)}`,
      locality: city,
      region,
      postal_code: postal,
      country,
    },
    nationality: country,
    drivers_license_number: `${family[0]}${digits(4)}-${digits(5)}-${digits(5)}`,
    passport_number: `${country}${digits(7)}`,
    national_id: `${digits(3)}-${digits(3)}-${digits(3)}`,
    blood_type: pick(BLOOD),
    allergies: some(ALLERGIES, 3),
    medications: some(MEDICATIONS, 2),
    medical_conditions: some(CONDITIONS, 2),
    immunizations: some(VACCINES, 4),
    emergency_contact: { name: `${pick(GIVEN)} ${family}`, phone: `+1647${digits(7)}`, relationship: pick(RELATIONS) },
    employer: pick(EMPLOYERS),
    occupation: pick(OCCUPATIONS),
  };
}

/** Writable catalogue fields this generator has no value for (images and derived fields are never written). */
export function unseededFields(catalogue: Catalogue): string[] {
  const raw = rawValues(1);
  return [...catalogue.fields.values()].filter((d) => !d.derivedFrom && d.type !== 'image' && !(d.name in raw)).map((d) => d.name);
}

/** Checked, normalized values of every writable catalogue field for user n. */
export function profileValues(catalogue: Catalogue, n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(rawValues(n))) {
    const def = catalogue.fields.get(field);
    if (!def || def.derivedFrom || def.type === 'image') continue;
    const checked = checkFieldValue(catalogue, def, raw, field);
    if (!checked.ok) throw new Error(`benchmark profile value for ${field} is invalid: ${JSON.stringify(checked.problems)}`);
    out[field] = checked.value;
  }
  return out;
}
