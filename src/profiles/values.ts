/**
 * Checks a value written to a profile field against the field's type in policies/fields.yaml, and normalizes it
 * (trimmed text, upper-case country codes, canonical locale tags, E.164 phone numbers).
 */
import type { ErrorDetail } from '../errors.ts';
import type { Catalogue, FieldDef, FieldType } from '../policy/catalogue.ts';

export const HANDLE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,29}$/;
const HANDLE_RULE = 'must be 3 to 30 letters, digits, dots, dashes or underscores, starting with a letter or digit';
const MAX_STRING = 200;
const MAX_TEXT = 2000;
const MAX_LIST_ITEMS = 100;
// Control characters other than tab and newline have no place in a profile value: C0 (NUL above all, which
// PostgreSQL text cannot hold), DEL, C1, and the line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
// An e-mail address has no control character at all: it goes into mail headers and the database.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
const EMAIL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export type CheckResult = { ok: true; value: unknown } | { ok: false; problems: ErrorDetail[] };

function bad(path: string, message: string): CheckResult {
  return { ok: false, problems: [{ path, message }] };
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** True for an ISO 3166-1 alpha-2 code that names a region (not XX, not EU). */
function isCountry(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || ['EU', 'EZ', 'UN', 'ZZ', 'XA', 'XB'].includes(code)) return false;
  return regionNames.of(code) !== code;
}

/** Why an address is not usable, or undefined. Kept simple on purpose: the verification code proves the rest. */
export function emailProblem(email: string): string | undefined {
  if (email.length > 254) return 'is too long: an e-mail address has at most 254 characters';
  if (EMAIL_CONTROL.test(email)) return 'contains control characters: send the address alone, like name@example.com';
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1) return 'must be an e-mail address like name@example.com';
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || /\s/.test(email) || local.includes('@')) return 'must be an e-mail address like name@example.com';
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => !/^[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]{0,61}[A-Za-z0-9\u00a1-\uffff])?$/.test(l))) {
    return `has an invalid domain "${domain}": use an address like name@example.com`;
  }
  return undefined;
}

function checkScalar(type: FieldType, raw: unknown, path: string, def: FieldDef | undefined): CheckResult {
  switch (type) {
    case 'string':
    case 'text': {
      if (typeof raw !== 'string') return bad(path, 'must be text');
      const value = raw.trim();
      const max = type === 'text' ? MAX_TEXT : MAX_STRING;
      if (value.length === 0) return bad(path, 'is empty: send null to remove it');
      if (value.length > max) return bad(path, `is too long: at most ${max} characters`);
      if (CONTROL.test(value) || (type === 'string' && /[\n\t]/.test(value))) return bad(path, 'contains control characters: send plain text');
      return { ok: true, value };
    }
    case 'handle': {
      if (typeof raw !== 'string' || !HANDLE_PATTERN.test(raw)) return bad(path, HANDLE_RULE);
      return { ok: true, value: raw };
    }
    case 'email': {
      if (typeof raw !== 'string') return bad(path, 'must be an e-mail address like name@example.com');
      const value = raw.trim();
      const problem = emailProblem(value);
      return problem ? bad(path, problem) : { ok: true, value };
    }
    case 'phone': {
      if (typeof raw !== 'string') return bad(path, 'must be a phone number in international form, like +15551234567');
      const value = raw.replace(/[\s().-]/g, '');
      if (!/^\+[1-9]\d{6,14}$/.test(value)) return bad(path, 'must be a phone number in international (E.164) form, like +15551234567');
      return { ok: true, value };
    }
    case 'url': {
      if (typeof raw !== 'string' || raw.length > 2048) return bad(path, 'must be an http(s) URL of at most 2048 characters');
      try {
        const url = new URL(raw.trim());
        if (url.protocol !== 'https:' && url.protocol !== 'http:') return bad(path, 'must be an http or https URL');
        return { ok: true, value: url.toString() };
      } catch {
        return bad(path, 'must be a URL like https://example.com/me');
      }
    }
    case 'locale': {
      if (typeof raw !== 'string') return bad(path, 'must be a BCP 47 language tag like en-CA');
      try {
        const [value] = Intl.getCanonicalLocales(raw.trim());
        if (!value) return bad(path, 'must be a BCP 47 language tag like en-CA');
        return { ok: true, value };
      } catch {
        return bad(path, 'must be a BCP 47 language tag like en-CA');
      }
    }
    case 'date': {
      if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw)) return bad(path, 'must be a date as YYYY-MM-DD');
      const d = new Date(`${raw}T00:00:00Z`);
      if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) return bad(path, `${raw} is not a calendar date`);
      if (d.getUTCFullYear() < 1900) return bad(path, 'must be in 1900 or later');
      return { ok: true, value: raw };
    }
    case 'country': {
      if (typeof raw !== 'string') return bad(path, 'must be a two-letter ISO 3166-1 country code like CA');
      const value = raw.trim().toUpperCase();
      if (!isCountry(value)) return bad(path, 'must be a two-letter ISO 3166-1 country code like CA');
      return { ok: true, value };
    }
    case 'enum': {
      const values = def?.values ?? [];
      if (typeof raw !== 'string' || !values.includes(raw)) return bad(path, `must be one of ${values.join(', ')}`);
      return { ok: true, value: raw };
    }
    case 'list': {
      if (!Array.isArray(raw)) return bad(path, 'must be a list of text items');
      if (raw.length > MAX_LIST_ITEMS) return bad(path, `has ${raw.length} items: at most ${MAX_LIST_ITEMS}`);
      const items: string[] = [];
      const problems: ErrorDetail[] = [];
      raw.forEach((item, i) => {
        const r = checkScalar('string', item, `${path}.${i}`, undefined);
        if (r.ok) items.push(r.value as string);
        else problems.push(...r.problems);
      });
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: items };
    }
    case 'integer':
    case 'boolean':
      // Only derived fields have these types in the catalogue, and those are never written.
      return bad(path, 'cannot be set');
    case 'image':
      return bad(path, 'is set by uploading a picture to PUT /api/v1/profile/avatar');
    case 'address':
    case 'contact':
      return bad(path, 'must be an object');
  }
}

/**
 * Checks `raw` for catalogue field `def`; `path` names it in problems (`updated_fields.home_address`). Structured
 * fields take an object of their listed properties, each checked by its own type.
 */
export function checkFieldValue(catalogue: Catalogue, def: FieldDef, raw: unknown, path: string): CheckResult {
  if (def.derivedFrom) return bad(path, `is computed from ${def.derivedFrom}: set ${def.derivedFrom} instead`);
  if (def.properties) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return bad(path, `must be an object with any of ${Object.keys(def.properties).join(', ')}`);
    }
    const value: Record<string, unknown> = {};
    const problems: ErrorDetail[] = [];
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length === 0) return bad(path, `is empty: give at least one of ${Object.keys(def.properties).join(', ')}, or null to remove it`);
    for (const [prop, v] of entries) {
      // Own properties only: `constructor` or `__proto__` must not find Object.prototype's members.
      const propDef = Object.hasOwn(def.properties, prop) ? def.properties[prop] : undefined;
      if (!propDef) {
        problems.push({ path: `${path}.${prop}`, message: `is not part of ${def.name}: use ${Object.keys(def.properties).join(', ')}` });
        continue;
      }
      const r = checkScalar(propDef.type, v, `${path}.${prop}`, undefined);
      if (r.ok) value[prop] = r.value;
      else problems.push(...r.problems);
    }
    return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
  }
  const result = checkScalar(def.type, raw, path, def);
  if (result.ok && def.type === 'date') {
    // A date others compute an age from cannot lie in the future.
    const isSource = [...catalogue.fields.values()].some((f) => f.derivedFrom === def.name);
    if (isSource && (result.value as string) > new Date().toISOString().slice(0, 10)) return bad(path, 'cannot be in the future');
  }
  return result;
}
