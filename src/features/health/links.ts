/**
 * Health links (seed API 9, issue 17): the person shares chosen records with a doctor's e-mail for a limited time.
 *
 * As in a SMART Health Link, the records are stored as a compact JWE (`dir`, `A256GCM`) under a key of the link's
 * own, which travels only in the URL fragment (`/share/<token>#<key>`): browsers never send a fragment, so it never
 * reaches a server log. The server keeps that key only wrapped by the profile's key, to re-encrypt the JWE when a
 * shared record changes. Beyond SMART Health Links, holding the link is not enough: the doctor proves control of the
 * address it was sent to with a one-time code, wrong codes are capped over the link's whole life, and expiry and
 * revocation are the server's. Each opening is a release under the link's basis (./link-basis.ts): the doctor is a
 * reader of role healthcare granted the `health` scope, so the person's rings still decide what is shown.
 */
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { CompactEncrypt } from 'jose';
import type { AppDeps } from '../../deps.ts';
import {
  CodeAttemptsExceeded,
  HealthLinkGone,
  HealthLinkNotFound,
  InvalidExpiration,
  InvalidRequest,
  RecordsWithheld,
  WrongCode,
} from '../../errors.ts';
import { recordAudit } from '../../audit/audit.ts';
import { hashToken, newToken, safeEqual } from '../../crypto/tokens.ts';
import { withTransaction } from '../../store/db.ts';
import { openForProfile, sealForProfile, type OpenProfile } from '../../disclosure/container.ts';
import type { RoleReader } from '../../disclosure/release.ts';
import { readProfileSnapshot, ringsOf } from '../../disclosure/snapshot.repo.ts';
import { openUserProfile, readUserFields } from '../../profiles/profile.repo.ts';
import { GOVERNING_FIELD, RECORD_TYPES, toBundle, type RecordType } from './fhir.ts';
import {
  findLinkByToken,
  insertLink,
  linkAccesses,
  listLinks,
  lockLiveLinks,
  recordsSharedBy,
  revokeLink,
  setLinkJwe,
  spendCode,
  storeCode,
  type LinkRow,
  type RecordRow,
} from './health.repo.ts';
import { healthClock } from './clock.ts';
import { openRecord } from './sealed.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_DAYS = 7;
const MAX_DAYS = 90;
/** A code lives ten minutes; a new one may be asked for every 30 s, ten over the link's life. */
const CODE_TTL_MS = 10 * 60 * 1000;
const CODE_INTERVAL_MS = 30 * 1000;
const MAX_CODES = 10;
/** Wrong codes a link tolerates over its whole life; then it is locked for good. */
export const MAX_WRONG_CODES = 5;

/** The doctor as the policy engine judges them: a reader of role healthcare, named in the audit by the link. */
function doctor(linkId: string): RoleReader {
  return { kind: 'role', role: 'healthcare', actor: `health_link:${linkId}` };
}
/** What creating a link grants the doctor: the health fields, as the `health` scope covers them. */
export const HEALTH_LINK_SCOPES = ['health'] as const;

const keyAad = (id: string) => `health_links:${id}:key`;
const recipientAad = (id: string) => `health_links:${id}:recipient`;
const normalize = (email: string) => email.trim().toLowerCase();

function recipientHash(deps: AppDeps, email: string): string {
  return createHmac('sha256', deps.keyring.derive('health-link-recipient')).update(normalize(email)).digest('hex');
}

/** A code is bound to its link and to the address it was sent to: a right code with another address is wrong. */
function codeHash(deps: AppDeps, tokenHash: string, email: string, code: string): string {
  return createHmac('sha256', deps.keyring.derive('health-link-code'))
    .update(`${tokenHash}\n${normalize(email)}\n${code.trim()}`)
    .digest('hex');
}

function isLive(link: Pick<LinkRow, 'revoked_at' | 'expires_at'>, now: Date): boolean {
  return link.revoked_at === null && new Date(link.expires_at).getTime() > now.getTime();
}

async function encrypt(key: Buffer, profile: OpenProfile, rows: readonly RecordRow[]): Promise<string> {
  const bundle = toBundle(
    rows.map((r) => ({ id: r.id, resource: openRecord(profile, r) })),
    healthClock.now(),
  );
  return new CompactEncrypt(Buffer.from(JSON.stringify(bundle), 'utf8'))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json' })
    .encrypt(key);
}

/** Re-encrypts the JWE of every live link of the person, in the transaction that changed their records. */
export async function resealLinks(trx: Knex.Transaction, profile: OpenProfile, userId: string): Promise<void> {
  for (const link of await lockLiveLinks(trx, userId, healthClock.now())) {
    const key = openForProfile(profile, link.wrapped_key, keyAad(link.id));
    await setLinkJwe(trx, link.id, await encrypt(key, profile, await recordsSharedBy(trx, link)));
  }
}

export interface CreateLinkInput {
  health_records_info: { record_ids?: string[]; types?: string[] };
  doctor_email: string;
  expiration_date?: string;
}

/** When the link expires: the given instant (a date alone is the end of that day, UTC), 7 days by default, 90 at most. */
function expiryOf(given: string | undefined, now: Date): Date {
  if (given === undefined) return new Date(now.getTime() + DEFAULT_DAYS * DAY_MS);
  const at = /^\d{4}-\d{2}-\d{2}$/.test(given) ? new Date(`${given}T23:59:59.999Z`) : new Date(given);
  if (Number.isNaN(at.getTime())) {
    throw new InvalidExpiration('expiration_date must be a date (2025-03-01) or a date and time (2025-03-01T12:00:00Z)');
  }
  if (at.getTime() <= now.getTime()) throw new InvalidExpiration('expiration_date is in the past: give a date after today');
  const latest = new Date(now.getTime() + MAX_DAYS * DAY_MS);
  if (at.getTime() > latest.getTime()) {
    throw new InvalidExpiration(`expiration_date is more than ${MAX_DAYS} days away: give one until ${latest.toISOString()} at the latest`);
  }
  return at;
}

export async function createLink(
  deps: AppDeps,
  userId: string,
  input: CreateLinkInput,
  clientIp: string,
): Promise<{ access_link: string; link_id: string; expires_at: string }> {
  const now = healthClock.now();
  const email = input.doctor_email.trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
    throw InvalidRequest.validation([{ path: 'doctor_email', message: "must be the doctor's e-mail address, like dr.lee@clinic.example" }]);
  }
  const expiresAt = expiryOf(input.expiration_date, now);
  const recordIds = [...new Set(input.health_records_info.record_ids ?? [])];
  const types = [...new Set(input.health_records_info.types ?? [])] as RecordType[];
  if (recordIds.length === 0 && types.length === 0) {
    throw InvalidRequest.validation([{ path: 'health_records_info', message: 'must name records by record_ids or by types' }]);
  }
  const shared = await recordsSharedBy(deps.db, { user_id: userId, record_ids: recordIds, record_types: types });
  const missing = recordIds.filter((id) => !shared.some((r) => r.id === id));
  if (missing.length > 0) {
    throw InvalidRequest.validation(
      missing.map((id) => ({ path: 'health_records_info.record_ids', message: `${id} is not one of your health records` })),
    );
  }
  if (shared.length === 0) {
    throw InvalidRequest.validation([{ path: 'health_records_info.types', message: 'you have no records of these types yet: add some first' }]);
  }
  // The doctor will only ever be shown what the policy lets a healthcare reader see of this person: refuse now, not
  // at the doctor's door, a selection the person's rings withhold.
  const snapshot = await readProfileSnapshot(deps.db, userId);
  const readable = new Set(
    snapshot ? deps.policy.engine.readableFields(doctor(''), ringsOf(snapshot), { scopes: HEALTH_LINK_SCOPES }).map((f) => f.split('.')[0]) : [],
  );
  const withheld = [...new Set([...types, ...shared.map((r) => r.resource_type as RecordType)])].filter((t) => !readable.has(GOVERNING_FIELD[t]));
  if (withheld.length > 0) {
    throw new RecordsWithheld(
      `a doctor may not be shown ${withheld.map((t) => `${t} records (field ${GOVERNING_FIELD[t]})`).join(', ')} under your privilege rings: move those fields to a ring a healthcare reader reaches (private or more open), or share other records`,
      {
        details: withheld.map((t) => ({
          path: 'health_records_info',
          message: `${t} is governed by ${GOVERNING_FIELD[t]}, which a doctor may not read`,
        })),
      },
    );
  }
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const id = randomUUID();
  const token = newToken(32);
  const key = randomBytes(32);
  const jwe = await encrypt(key, profile, shared);
  const accessLink = `${deps.config.baseUrl}/share/${token}#${key.toString('base64url')}`;
  const who = await readUserFields(deps.db, deps.keyring, userId, ['name', 'handle']);
  const sharer = `${who.name ?? who.handle}${who.name ? ` (@${who.handle})` : ''}`;
  const counts = RECORD_TYPES.map((t) => [t, shared.filter((r) => r.resource_type === t).length] as const).filter(([, n]) => n > 0);
  await withTransaction(deps.db, async (trx) => {
    await insertLink(trx, {
      id,
      user_id: userId,
      token_hash: hashToken(token),
      wrapped_key: sealForProfile(profile, key, keyAad(id)),
      recipient: sealForProfile(profile, normalize(email), recipientAad(id)),
      recipient_hash: recipientHash(deps, email),
      record_ids: recordIds,
      record_types: types,
      jwe,
      expires_at: expiresAt,
      created_at: now,
    });
    await recordAudit(trx, {
      action: 'health_link.created',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { link_id: id, record_ids: shared.map((r) => r.id), record_types: types, expires_at: expiresAt.toISOString() },
    });
    await deps.outbox.enqueueMail(trx, {
      to: normalize(email),
      // The subject is logged and kept in the clear by the outbox: who shares is said in the sealed body only.
      subject: 'Health records shared with you through Ringfence',
      text: [
        `${sharer} shares ${shared.length} health record${shared.length === 1 ? '' : 's'} with you through Ringfence:`,
        ...counts.map(([t, n]) => `  - ${n} ${t}`),
        '',
        `Open them until ${expiresAt.toUTCString()}:`,
        accessLink,
        '',
        'You will be asked to confirm this e-mail address with a one-time code. If you did not expect this, ignore this e-mail.',
      ].join('\n'),
    });
  });
  return { access_link: accessLink, link_id: id, expires_at: expiresAt.toISOString() };
}

export interface LinkView {
  link_id: string;
  recipient: string;
  state: 'active' | 'expired' | 'revoked';
  records: { record_id: string; resource_type: string }[];
  record_types: string[];
  expires_at: string;
  created_at: string;
  revoked_at: string | null;
  accesses: number;
  first_access_at: string | null;
  last_access_at: string | null;
  /** Every access, from the audit log: when, from where, which records were shown. */
  access_log: { at: string; client_ip: string | null; record_ids: string[] }[];
  wrong_codes: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export async function listOwnLinks(deps: AppDeps, userId: string): Promise<LinkView[]> {
  const now = healthClock.now();
  const rows = await listLinks(deps.db, userId);
  if (rows.length === 0) return [];
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const accesses = await linkAccesses(deps.db, userId);
  const out: LinkView[] = [];
  for (const link of rows) {
    const records = await recordsSharedBy(deps.db, link);
    out.push({
      link_id: link.id,
      recipient: openForProfile(profile, link.recipient, recipientAad(link.id)).toString('utf8'),
      state: link.revoked_at ? 'revoked' : isLive(link, now) ? 'active' : 'expired',
      records: records.map((r) => ({ record_id: r.id, resource_type: r.resource_type })),
      record_types: link.record_types,
      expires_at: iso(link.expires_at)!,
      created_at: iso(link.created_at)!,
      revoked_at: iso(link.revoked_at),
      accesses: link.accesses,
      first_access_at: iso(link.first_access_at),
      last_access_at: iso(link.last_access_at),
      access_log: accesses
        .filter((a) => a.data.link_id === link.id)
        .map((a) => ({ at: iso(a.at)!, client_ip: a.client_ip, record_ids: a.data.record_ids })),
      wrong_codes: link.wrong_codes,
    });
  }
  return out;
}

/** Revokes a link: dead on the next request, and a release already under way is either on record or refused. */
export async function revokeOwnLink(deps: AppDeps, userId: string, linkId: string, clientIp: string): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    // The UPDATE takes the link's row lock before the audit chain's, as a release's admission does.
    if (!(await revokeLink(trx, userId, linkId, healthClock.now()))) throw new HealthLinkNotFound('no such health link, or it was already revoked');
    await recordAudit(trx, {
      action: 'health_link.revoked',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { link_id: linkId },
    });
  });
}

/** The live link a path token names; HealthLinkGone (404) when there is none, or it expired or was revoked. */
export async function liveLink(deps: AppDeps, token: string): Promise<LinkRow> {
  const link = await findLinkByToken(deps.db, hashToken(token));
  if (!link || !isLive(link, healthClock.now())) throw new HealthLinkGone();
  return link;
}

/**
 * Mails a one-time code to `email` if it is the link's recipient. The answer is the same either way, so the page
 * tells no one which address the link was sent to.
 */
export async function requestCode(deps: AppDeps, token: string, email: string, clientIp: string): Promise<void> {
  const link = await liveLink(deps, token);
  if (!safeEqual(recipientHash(deps, email), link.recipient_hash)) return;
  const now = healthClock.now();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await withTransaction(deps.db, async (trx) => {
    const stored = await storeCode(trx, link.id, codeHash(deps, link.token_hash, email, code), now, new Date(now.getTime() + CODE_TTL_MS), {
      minIntervalMs: CODE_INTERVAL_MS,
      maxCodes: MAX_CODES,
      maxWrong: MAX_WRONG_CODES,
    });
    if (!stored) return;
    await recordAudit(trx, {
      action: 'health_link.code_sent',
      actor: 'anonymous',
      subject: `user:${link.user_id}`,
      clientIp,
      data: { link_id: link.id },
    });
    await deps.outbox.enqueueMail(trx, {
      to: normalize(email),
      subject: 'Your code to open the shared health records',
      text: `Your one-time code is: ${code}\n\nIt works once, for ten minutes, on the page of the link you were sent.`,
    });
  });
}

/**
 * Opens the link with the recipient's address and code: spends the try (one statement, so parallel tries never get
 * more than the cap), then releases the records under the link's basis and answers their JWE, which the page
 * decrypts with the key from the fragment. The person is mailed on the first access.
 */
export async function openLink(
  deps: AppDeps,
  token: string,
  email: string,
  code: string,
  clientIp: string,
): Promise<{ jwe: string; expires_at: string; records: number }> {
  const link = await liveLink(deps, token);
  const now = healthClock.now();
  const verdict = await spendCode(deps.db, link.token_hash, codeHash(deps, link.token_hash, email, code), now, MAX_WRONG_CODES);
  if (!verdict) {
    const current = await findLinkByToken(deps.db, link.token_hash);
    if (!current || !isLive(current, healthClock.now())) throw new HealthLinkGone();
    throw new CodeAttemptsExceeded('too many wrong codes: this link is locked for good; ask the person who shared it for a new one');
  }
  if (!verdict.ok) {
    const left = MAX_WRONG_CODES - verdict.wrong_codes;
    if (left <= 0) throw new CodeAttemptsExceeded('too many wrong codes: this link is locked for good; ask the person who shared it for a new one');
    throw new WrongCode(`wrong code, expired code, or not the address this link was sent to: ${left} ${left === 1 ? 'try' : 'tries'} left`);
  }
  const current = (await findLinkByToken(deps.db, link.token_hash))!;
  const rows = await recordsSharedBy(deps.db, current);
  const fields = [...new Set(rows.map((r) => GOVERNING_FIELD[r.resource_type as RecordType]))];
  let shown: RecordRow[] = [];
  const release = await deps.disclosure.release({
    reader: doctor(link.id),
    subject: link.user_id,
    basis: { kind: 'health_link', linkId: link.id },
    fields,
    openValues: false,
    clientIp,
    via: 'health_link',
    companions: async (_values, released) => {
      shown = rows.filter((r) => released.includes(GOVERNING_FIELD[r.resource_type as RecordType]));
      // What the person's rings withhold now is left out of a JWE made for this answer; else the stored one.
      if (shown.length === rows.length) return { health_records: current.jwe };
      const profile = await openUserProfile(deps.db, deps.keyring, link.user_id);
      return { health_records: await encrypt(openForProfile(profile, current.wrapped_key, keyAad(current.id)), profile, shown) };
    },
  });
  await withTransaction(deps.db, async (trx) => {
    await recordAudit(trx, {
      action: 'health_link.accessed',
      actor: `health_link:${link.id}`,
      subject: `user:${link.user_id}`,
      clientIp,
      data: { link_id: link.id, record_ids: shown.map((r) => r.id), access: verdict.accesses },
    });
    if (verdict.accesses === 1) {
      const owner = await readUserFields(trx, deps.keyring, link.user_id, ['email']);
      const profile = await openUserProfile(trx, deps.keyring, link.user_id);
      const recipient = openForProfile(profile, current.recipient, recipientAad(current.id)).toString('utf8');
      if (typeof owner.email === 'string') {
        await deps.outbox.enqueueMail(trx, {
          to: owner.email,
          subject: 'Your shared health records were opened',
          text: `${recipient} opened the health records you shared (${shown.length} record${shown.length === 1 ? '' : 's'}) on ${now.toUTCString()}.\n\nIf you did not expect this, revoke the link in Ringfence: it stops working at once.`,
        });
      }
    }
  });
  return { jwe: release.companions.health_records as string, expires_at: new Date(current.expires_at).toISOString(), records: shown.length };
}
