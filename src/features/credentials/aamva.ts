/**
 * A parser of our own for the AAMVA DL/ID card data in a licence's PDF417 barcode (the AAMVA DL/ID Card Design
 * Standard, versions 1 to 10): the header (compliance indicator, separators, file type, IIN, version, jurisdiction
 * version, number of entries), the subfile designators (type, offset, length), the DL or ID subfile and the
 * jurisdiction's own Z subfile, each a run of three-letter elements. Dates are MMDDCCYY on US cards and CCYYMMDD on
 * Canadian ones and on version 1 cards. What cannot be read as AAMVA throws an AamvaError that says what is wrong;
 * elements that are merely missing or odd are left for the checks to report.
 */
import { issuerOf, type Issuer } from './iin.ts';

/** The payload is not AAMVA DL/ID data; the message names what is wrong. */
export class AamvaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AamvaError';
  }
}

interface AamvaAddress {
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/** What the barcode says, in our words; absent elements are absent. Dates are YYYY-MM-DD. */
export interface AamvaData {
  version: number;
  jurisdiction_version: number | null;
  iin: string;
  issuer: Issuer | null;
  /** The subfile holding the card data: DL (driver's licence) or ID (identification card). */
  document: 'DL' | 'ID';
  document_number?: string;
  family_name?: string;
  given_name?: string;
  middle_name?: string;
  name_suffix?: string;
  date_of_birth?: string;
  sex?: 'male' | 'female' | 'not_specified';
  address?: AamvaAddress;
  issue_date?: string;
  expiry_date?: string;
  /** The country of the card (DCG), or the issuer's when the card does not say. */
  country?: 'USA' | 'CAN';
  /** The address's jurisdiction code (DAJ). */
  jurisdiction_code?: string;
  vehicle_class?: string;
  restrictions?: string;
  endorsements?: string;
  /** DDA: F (fully compliant, REAL ID), N (not compliant). */
  compliance_type?: string;
  document_discriminator?: string;
  /** Elements of the jurisdiction's Z subfile, as they are. */
  jurisdiction_fields: Record<string, string>;
  /** Elements the card's version requires but the barcode lacks, and dates that are not calendar dates. */
  problems: string[];
}

const MAX_PAYLOAD = 8 * 1024;
const MAX_ENTRIES = 20;

interface Subfile {
  type: string;
  elements: Map<string, string>;
}

function digits(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new AamvaError(`the AAMVA header's ${what} is "${printable(s)}", not a number`);
  return Number(s);
}

/** Shows a piece of the payload in a message without control characters. */
function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being replaced
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '·').slice(0, 24);
}

/** Reads one subfile: its two-letter type, then elements separated by `sep`, ending at `end` (or the data's end). */
function readSubfile(data: string, start: number, length: number, type: string, sep: string, end: string): Subfile {
  let at = start;
  // Real cards' offsets are sometimes off by a byte or two: look for the type nearby.
  if (data.slice(at, at + 2) !== type) {
    const near = data.indexOf(type, Math.max(0, start - 3));
    if (near < 0 || near > start + 3) throw new AamvaError(`subfile ${type} is not at the offset its designator gives (${start})`);
    at = near;
  }
  // The segment terminator ends the subfile; the designator's length only bounds a subfile that has none.
  let body = data.slice(at + 2);
  const endAt = body.indexOf(end);
  body = endAt >= 0 ? body.slice(0, endAt) : body.slice(0, Math.max(length, 2));
  const elements = new Map<string, string>();
  for (const raw of body.split(sep)) {
    const item = raw.replace(/\r/g, '');
    if (item.length < 3) continue;
    const id = item.slice(0, 3);
    if (!/^[A-Z]{3}$/.test(id)) continue;
    if (!elements.has(id)) elements.set(id, item.slice(3).trim());
  }
  return { type, elements };
}

function isCalendarDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** A date element as YYYY-MM-DD, reading it in the preferred order first and the other one when that fails. */
function readDate(raw: string | undefined, yearFirst: boolean): string | undefined | null {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{8}$/.test(raw)) return null;
  const asYearFirst = () => [Number(raw.slice(0, 4)), Number(raw.slice(4, 6)), Number(raw.slice(6, 8))] as const;
  const asMonthFirst = () => [Number(raw.slice(4, 8)), Number(raw.slice(0, 2)), Number(raw.slice(2, 4))] as const;
  for (const [y, m, d] of yearFirst ? [asYearFirst(), asMonthFirst()] : [asMonthFirst(), asYearFirst()]) {
    if (y >= 1800 && isCalendarDate(y, m, d)) return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }
  return null;
}

function postalCode(raw: string | undefined, country: 'USA' | 'CAN' | undefined): string | undefined {
  if (!raw) return undefined;
  const v = raw.replace(/\s+/g, '').toUpperCase();
  if (country !== 'CAN' && /^\d{9}$/.test(v)) return v.endsWith('0000') ? v.slice(0, 5) : `${v.slice(0, 5)}-${v.slice(5)}`;
  if (/^[A-Z]\d[A-Z]\d[A-Z]\d$/.test(v)) return `${v.slice(0, 3)} ${v.slice(3)}`;
  return raw.trim();
}

function sexOf(raw: string | undefined): AamvaData['sex'] {
  switch (raw?.toUpperCase()) {
    case '1':
    case 'M':
      return 'male';
    case '2':
    case 'F':
      return 'female';
    case '9':
    case 'X':
      return 'not_specified';
    default:
      return undefined;
  }
}

const present = (v: string | undefined) => (v === undefined || v === '' || /^(NONE|UNAVL|UNAVAILABLE)$/i.test(v) ? undefined : v);

/** Elements every card of these versions must have for our purposes (document number, name, birth, expiry). */
function required(version: number): string[][] {
  // Alternatives per need: the name moved from DAA/DAB (version 1) to DCS with DCT (2, 3) and DAC (4 on).
  return [['DAQ'], ['DBB'], ['DBA'], version === 1 ? ['DAB', 'DAA', 'DCS'] : ['DCS', 'DAB'], version === 1 ? ['DAC', 'DAA', 'DCT'] : ['DAC', 'DCT']];
}

/** Parses an AAMVA DL/ID payload (the barcode's bytes read as Latin-1). */
export function parseAamva(payload: string): AamvaData {
  if (payload.length > MAX_PAYLOAD) throw new AamvaError(`the barcode holds ${payload.length} bytes: AAMVA card data is at most a few hundred`);
  const start = payload.indexOf('@');
  if (start < 0 || start > 4) {
    throw new AamvaError(
      `the barcode's data does not start with the AAMVA compliance indicator "@" (it starts "${printable(payload)}"): it is not the data of a driver's licence or ID card`,
    );
  }
  const data = payload.slice(start);
  if (data.length < 21) throw new AamvaError('the barcode holds too little data for an AAMVA header');
  const sep = data[1]!;
  const end = data[3]!;
  const fileType = data.slice(4, 9);
  if (fileType !== 'ANSI ' && fileType !== 'AAMVA') {
    throw new AamvaError(
      `the AAMVA header's file type is "${printable(fileType)}", not "ANSI ": it is not the data of a driver's licence or ID card`,
    );
  }
  const iin = data.slice(9, 15);
  if (!/^\d{6}$/.test(iin)) throw new AamvaError(`the issuer identification number (IIN) is "${printable(iin)}", not six digits`);
  const version = digits(data.slice(15, 17), 'version number');
  if (version < 1 || version > 10) throw new AamvaError(`AAMVA version ${version} is not supported: versions 1 to 10 are`);
  let pos = 17;
  let jurisdictionVersion: number | null = null;
  if (version >= 2) {
    jurisdictionVersion = digits(data.slice(pos, pos + 2), 'jurisdiction version');
    pos += 2;
  }
  const entries = digits(data.slice(pos, pos + 2), 'number of entries');
  pos += 2;
  if (entries < 1 || entries > MAX_ENTRIES) throw new AamvaError(`the AAMVA header announces ${entries} subfiles: a card has 1 to ${MAX_ENTRIES}`);
  const designators: { type: string; offset: number; length: number }[] = [];
  for (let i = 0; i < entries; i++) {
    const d = data.slice(pos, pos + 10);
    if (d.length < 10) throw new AamvaError(`the AAMVA header announces ${entries} subfiles but is cut short after ${i}`);
    const type = d.slice(0, 2);
    if (!/^[A-Z]{2}$/.test(type)) throw new AamvaError(`subfile designator ${i + 1} has type "${printable(type)}", not two capital letters`);
    designators.push({
      type,
      offset: digits(d.slice(2, 6), `offset of subfile ${type}`),
      length: digits(d.slice(6, 10), `length of subfile ${type}`),
    });
    pos += 10;
  }
  const main = designators.find((d) => d.type === 'DL' || d.type === 'ID');
  if (!main) throw new AamvaError(`the barcode has no DL or ID subfile (it has ${designators.map((d) => d.type).join(', ')})`);
  if (main.offset >= data.length + 3)
    throw new AamvaError(`subfile ${main.type} starts at ${main.offset}, past the end of the data (${data.length} bytes)`);
  // Offsets count from the compliance indicator.
  const card = readSubfile(data, main.offset, main.length, main.type, sep, end);
  const zone = designators.find((d) => d.type.startsWith('Z'));
  let jurisdictionFields: Record<string, string> = {};
  if (zone && zone.offset < data.length) {
    try {
      jurisdictionFields = Object.fromEntries(readSubfile(data, zone.offset, zone.length, zone.type, sep, end).elements);
    } catch {
      // The jurisdiction's own subfile is optional: a misplaced one is left out, not fatal.
    }
  }
  return describe(card, version, jurisdictionVersion, iin, jurisdictionFields);
}

function describe(
  card: Subfile,
  version: number,
  jurisdictionVersion: number | null,
  iin: string,
  jurisdictionFields: Record<string, string>,
): AamvaData {
  const e = (id: string) => present(card.elements.get(id));
  const issuer = issuerOf(iin) ?? null;
  const problems: string[] = [];
  for (const alternatives of required(version)) {
    if (!alternatives.some((id) => e(id) !== undefined)) problems.push(`element ${alternatives[0]} is missing`);
  }
  const dcg = e('DCG')?.toUpperCase();
  const country = dcg === 'USA' || dcg === 'CAN' ? dcg : (issuer?.country ?? undefined);
  const yearFirst = version === 1 || country === 'CAN';
  const date = (id: string, what: string) => {
    const d = readDate(e(id), yearFirst);
    if (d === null) problems.push(`${what} (${id}) is not a date`);
    return d ?? undefined;
  };
  // Names: DCS/DAC/DAD from version 4; DCS with DCT (given names) in 2 and 3; DAB/DAC/DAD or DAA in 1.
  let family = e('DCS') ?? e('DAB');
  let given = e('DAC');
  let middle = e('DAD');
  const dct = e('DCT');
  if (!given && dct) {
    const [first, ...rest] = dct.split(/[ ,$]+/).filter(Boolean);
    given = first;
    middle ??= rest.length > 0 ? rest.join(' ') : undefined;
  }
  const daa = e('DAA');
  if ((!family || !given) && daa) {
    const parts = daa.split(/[,$]/).map((p) => p.trim());
    family ??= parts[0] || undefined;
    given ??= parts[1] || undefined;
    middle ??= parts[2] || undefined;
  }
  const address: AamvaAddress = {};
  const street = [e('DAG'), e('DAH')].filter(Boolean).join(', ');
  if (street) address.street_address = street;
  if (e('DAI')) address.locality = e('DAI');
  if (e('DAJ')) address.region = e('DAJ')!.toUpperCase();
  const postal = postalCode(e('DAK'), country);
  if (postal) address.postal_code = postal;
  if (country) address.country = country === 'USA' ? 'US' : 'CA';
  const out: AamvaData = {
    version,
    jurisdiction_version: jurisdictionVersion,
    iin,
    issuer,
    document: card.type as 'DL' | 'ID',
    jurisdiction_fields: jurisdictionFields,
    problems,
  };
  const set = <K extends keyof AamvaData>(key: K, value: AamvaData[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('document_number', e('DAQ'));
  set('family_name', family);
  set('given_name', given);
  set('middle_name', middle);
  set('name_suffix', e('DCU') ?? e('DAE'));
  set('date_of_birth', date('DBB', 'the date of birth'));
  set('sex', sexOf(e('DBC')));
  if (Object.keys(address).length > 0) out.address = address;
  set('issue_date', date('DBD', 'the issue date'));
  set('expiry_date', date('DBA', 'the expiry date'));
  set('country', country);
  set('jurisdiction_code', e('DAJ')?.toUpperCase());
  set('vehicle_class', e('DCA') ?? e('DAR'));
  set('restrictions', e('DCB') ?? e('DAS'));
  set('endorsements', e('DCD') ?? e('DAT'));
  set('compliance_type', e('DDA'));
  set('document_discriminator', e('DCF'));
  return out;
}
