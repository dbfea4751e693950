/**
 * What can honestly be checked of a licence's barcode: that it is well formed, that its issuer number is a known
 * jurisdiction's and matches the card's own jurisdiction and country, that it has not expired, that its dates make
 * sense, and (reported, not enforced) that its name is the account's. The barcode carries no signature: none of
 * this proves the document authentic, and the answer says so.
 */
import type { AamvaData } from './aamva.ts';
import type { CheckResult } from './credentials.repo.ts';

/** Checks that must pass before a credential may verify profile fields (name_matches_account only informs). */
const REQUIRED_CHECKS: readonly string[] = ['structure', 'issuer_known', 'issuer_matches', 'not_expired', 'dates_plausible'];

export const AUTHENTICITY = {
  proven: false,
  message:
    'The authenticity of the document was not proven: its barcode carries no signature, so these checks show the data is well formed and consistent, not that the card is genuine.',
} as const;

const today = () => new Date().toISOString().slice(0, 10);

function yearsBetween(from: string, to: string): number {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = to.split('-').map(Number) as [number, number, number];
  return ty - fy - (tm < fm || (tm === fm && td < fd) ? 1 : 0);
}

/** Letters only, lower case, without accents: how names are compared. */
function nameTokens(s: string): string[] {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
}

/** Every check of a parsed card, in a fixed order; `accountName` is the profile's name field. */
export function runChecks(data: AamvaData, accountName: string | undefined, now = today()): CheckResult[] {
  const out: CheckResult[] = [];
  out.push(
    data.problems.length === 0
      ? {
          check: 'structure',
          passed: true,
          message: `AAMVA version ${data.version} header, subfiles and required elements are present and well formed`,
        }
      : { check: 'structure', passed: false, message: `the barcode's data is incomplete: ${data.problems.join('; ')}` },
  );
  if (data.issuer) {
    out.push({ check: 'issuer_known', passed: true, message: `issuer number ${data.iin} is ${data.issuer.name}'s` });
    const regionOk = data.jurisdiction_code === data.issuer.code;
    const countryOk = data.country === data.issuer.country;
    out.push(
      regionOk && countryOk
        ? {
            check: 'issuer_matches',
            passed: true,
            message: `the card's jurisdiction (${data.jurisdiction_code}) and country match its issuer number`,
          }
        : {
            check: 'issuer_matches',
            passed: false,
            message: `issuer number ${data.iin} is ${data.issuer.name} (${data.issuer.code}, ${data.issuer.country}), but the card says ${data.jurisdiction_code ?? 'no jurisdiction'}, ${data.country ?? 'no country'}`,
          },
    );
  } else {
    out.push({ check: 'issuer_known', passed: false, message: `issuer number ${data.iin} is not a North American jurisdiction's on AAMVA's list` });
    out.push({ check: 'issuer_matches', passed: null, message: 'not checked: the issuer number is unknown' });
  }
  if (!data.expiry_date) out.push({ check: 'not_expired', passed: false, message: 'the card has no readable expiry date' });
  else if (data.expiry_date < now) out.push({ check: 'not_expired', passed: false, message: `the card expired on ${data.expiry_date}` });
  else out.push({ check: 'not_expired', passed: true, message: `valid until ${data.expiry_date}` });
  const dateProblems: string[] = [];
  const { date_of_birth: dob, issue_date: issued, expiry_date: expires } = data;
  if (!dob) dateProblems.push('no readable date of birth');
  else {
    if (dob > now) dateProblems.push('the date of birth is in the future');
    else if (yearsBetween(dob, now) > 125) dateProblems.push('the date of birth is more than 125 years ago');
  }
  if (issued) {
    if (issued > now) dateProblems.push('the issue date is in the future');
    if (dob && issued < dob) dateProblems.push('the card was issued before its holder was born');
    if (expires && expires <= issued) dateProblems.push('the card expires before it was issued');
  }
  out.push(
    dateProblems.length === 0
      ? { check: 'dates_plausible', passed: true, message: 'the dates of birth, issue and expiry are in a possible order' }
      : { check: 'dates_plausible', passed: false, message: dateProblems.join('; ') },
  );
  const cardTokens = nameTokens([data.given_name, data.middle_name, data.family_name].filter(Boolean).join(' '));
  const account = new Set(nameTokens(accountName ?? ''));
  const family = nameTokens(data.family_name ?? '');
  const given = nameTokens(data.given_name ?? '')[0];
  if (!accountName || cardTokens.length === 0) {
    out.push({ check: 'name_matches_account', passed: null, message: 'not checked: the account or the card has no name' });
  } else if (given && family.length > 0 && account.has(given) && family.every((f) => account.has(f))) {
    out.push({
      check: 'name_matches_account',
      passed: true,
      message: "the card's given and family names are in the account's name (reported, not enforced)",
    });
  } else {
    out.push({ check: 'name_matches_account', passed: false, message: "the card's name differs from the account's name (reported, not enforced)" });
  }
  return out;
}

/** The required checks that did not pass. */
export function failedRequired(checks: readonly CheckResult[]): string[] {
  return checks.filter((c) => REQUIRED_CHECKS.includes(c.check) && c.passed !== true).map((c) => c.check);
}
