/**
 * AAMVA Issuer Identification Numbers: the six digits in every DL/ID barcode's header that name the jurisdiction
 * which issued the card (AAMVA's published IIN list, North American jurisdictions only).
 */

export interface Issuer {
  /** The jurisdiction's postal code, as the barcode's DAJ element writes it (CA, ON, …). */
  code: string;
  name: string;
  country: 'USA' | 'CAN';
}

const US: Record<string, [string, string]> = {
  '636000': ['VA', 'Virginia'],
  '636001': ['NY', 'New York'],
  '636002': ['MA', 'Massachusetts'],
  '636003': ['MD', 'Maryland'],
  '636004': ['NC', 'North Carolina'],
  '636005': ['SC', 'South Carolina'],
  '636006': ['CT', 'Connecticut'],
  '636007': ['LA', 'Louisiana'],
  '636008': ['MT', 'Montana'],
  '636009': ['NM', 'New Mexico'],
  '636010': ['FL', 'Florida'],
  '636011': ['DE', 'Delaware'],
  '636014': ['CA', 'California'],
  '636015': ['TX', 'Texas'],
  '636018': ['IA', 'Iowa'],
  '636019': ['GU', 'Guam'],
  '636020': ['CO', 'Colorado'],
  '636021': ['AR', 'Arkansas'],
  '636022': ['KS', 'Kansas'],
  '636023': ['OH', 'Ohio'],
  '636024': ['VT', 'Vermont'],
  '636025': ['PA', 'Pennsylvania'],
  '636026': ['AZ', 'Arizona'],
  '636029': ['OR', 'Oregon'],
  '636030': ['MO', 'Missouri'],
  '636031': ['WI', 'Wisconsin'],
  '636032': ['MI', 'Michigan'],
  '636033': ['AL', 'Alabama'],
  '636034': ['ND', 'North Dakota'],
  '636035': ['IL', 'Illinois'],
  '636036': ['NJ', 'New Jersey'],
  '636037': ['IN', 'Indiana'],
  '636038': ['MN', 'Minnesota'],
  '636039': ['NH', 'New Hampshire'],
  '636040': ['UT', 'Utah'],
  '636041': ['ME', 'Maine'],
  '636042': ['SD', 'South Dakota'],
  '636043': ['DC', 'District of Columbia'],
  '636045': ['WA', 'Washington'],
  '636046': ['KY', 'Kentucky'],
  '636047': ['HI', 'Hawaii'],
  '636049': ['NV', 'Nevada'],
  '636050': ['ID', 'Idaho'],
  '636051': ['MS', 'Mississippi'],
  '636052': ['RI', 'Rhode Island'],
  '636053': ['TN', 'Tennessee'],
  '636054': ['NE', 'Nebraska'],
  '636055': ['GA', 'Georgia'],
  '636058': ['OK', 'Oklahoma'],
  '636059': ['AK', 'Alaska'],
  '636060': ['WV', 'West Virginia'],
  '636061': ['WY', 'Wyoming'],
  '636062': ['VI', 'U.S. Virgin Islands'],
  '604431': ['PR', 'Puerto Rico'],
};

const CANADA: Record<string, [string, string]> = {
  '636012': ['ON', 'Ontario'],
  '636013': ['NS', 'Nova Scotia'],
  '636016': ['NL', 'Newfoundland and Labrador'],
  '636017': ['NB', 'New Brunswick'],
  '636028': ['BC', 'British Columbia'],
  '636044': ['SK', 'Saskatchewan'],
  '636048': ['MB', 'Manitoba'],
  '604426': ['PE', 'Prince Edward Island'],
  '604428': ['QC', 'Quebec'],
  '604429': ['YT', 'Yukon'],
  '604430': ['NT', 'Northwest Territories'],
  '604432': ['AB', 'Alberta'],
  '604433': ['NU', 'Nunavut'],
};

const ISSUERS: ReadonlyMap<string, Issuer> = new Map<string, Issuer>([
  ...Object.entries(US).map(([iin, [code, name]]): [string, Issuer] => [iin, { code, name, country: 'USA' }]),
  ...Object.entries(CANADA).map(([iin, [code, name]]): [string, Issuer] => [iin, { code, name, country: 'CAN' }]),
]);

/** The jurisdiction an IIN belongs to, or undefined for a number not on the list. */
export function issuerOf(iin: string): Issuer | undefined {
  return ISSUERS.get(iin);
}

/** The IIN of a jurisdiction code (the first listed), for tests and fixtures. */
export function iinOf(code: string): string | undefined {
  for (const [iin, issuer] of ISSUERS) if (issuer.code === code) return iin;
  return undefined;
}
