/**
 * The catalogue of credential types (GET /api/v1/credential-types): stable codes, the labels people and seed
 * clients send (the seed's "Driver's License"), and what the barcode on the back must say for a card to be one.
 */

export type DocumentKind = 'DL' | 'ID';

export interface CredentialType {
  code: string;
  label: string;
  /** The AAMVA subfile the card carries: DL for a driver's licence, ID for an identification card. */
  document: DocumentKind;
  country: 'USA' | 'CAN';
  /** Other names accepted for it in `credential_type`. */
  aliases: readonly string[];
}

export const CREDENTIAL_TYPES: readonly CredentialType[] = [
  { code: 'us_drivers_license', label: "Driver's License", document: 'DL', country: 'USA', aliases: ["US Driver's License"] },
  { code: 'us_id_card', label: 'Identification Card', document: 'ID', country: 'USA', aliases: ['ID Card', 'State ID', 'US ID Card'] },
  { code: 'ca_drivers_license', label: "Driver's Licence (Canada)", document: 'DL', country: 'CAN', aliases: ["Driver's Licence"] },
  { code: 'ca_id_card', label: 'Identification Card (Canada)', document: 'ID', country: 'CAN', aliases: ['Photo Card', 'Canadian ID Card'] },
];

/** What a request's `credential_type` asks for; a generic label ("Driver's License") leaves the country open. */
export interface TypeChoice {
  document: DocumentKind;
  /** Undefined when the label names no country: the barcode's issuer decides. */
  country: 'USA' | 'CAN' | undefined;
}

const normal = (s: string) =>
  s
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[\u2018\u2019'`]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** The generic labels: a licence or an ID card of any North American jurisdiction. */
const GENERIC: ReadonlyMap<string, DocumentKind> = new Map([
  [normal("Driver's License"), 'DL'],
  [normal("Driver's Licence"), 'DL'],
  [normal('drivers_license'), 'DL'],
  [normal('ID Card'), 'ID'],
  [normal('id_card'), 'ID'],
  [normal('Identification Card'), 'ID'],
]);

/** Reads `credential_type` (a code, a label or an alias, in any case); undefined when it names no type. */
export function chooseType(raw: string): TypeChoice | undefined {
  const key = normal(raw);
  const generic = GENERIC.get(key);
  if (generic) return { document: generic, country: undefined };
  const found = CREDENTIAL_TYPES.find((t) => normal(t.code) === key || normal(t.label) === key || t.aliases.some((a) => normal(a) === key));
  return found ? { document: found.document, country: found.country } : undefined;
}

/** The catalogue entry of a document kind and country. */
export function typeFor(document: DocumentKind, country: 'USA' | 'CAN'): CredentialType {
  return CREDENTIAL_TYPES.find((t) => t.document === document && t.country === country)!;
}

/** The entry of a stored code. */
export function typeByCode(code: string): CredentialType | undefined {
  return CREDENTIAL_TYPES.find((t) => t.code === code);
}
