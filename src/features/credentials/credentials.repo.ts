/** The credentials table (migrations/020_credentials.ts): rows of one profile, their sealed image and extraction. */
import type { Knex } from 'knex';
import type { OpenProfile } from '../../disclosure/container.ts';
import { openForProfile, sealForProfile } from '../../disclosure/container.ts';
import type { Queryable } from '../../store/db.ts';

type CredentialState = 'pending_confirmation' | 'confirmed' | 'rejected';

export interface CheckResult {
  check: string;
  /** null when the check could not be made (say, the issuer is unknown, so it cannot match). */
  passed: boolean | null;
  message: string;
}

export interface AppliedField {
  field: string;
  provenance: string;
}

export interface CredentialRow {
  id: string;
  profile_id: string;
  type: string;
  state: CredentialState;
  image: Uint8Array | null;
  image_type: string | null;
  extraction: Uint8Array | null;
  checks: Uint8Array | null;
  checks_passed: string[];
  applied_fields: AppliedField[];
  created_at: Date;
  decided_at: Date | null;
}

const aad = (profileId: string, id: string, part: 'image' | 'extraction' | 'checks') => `credentials:${profileId}:${id}:${part}`;

function parseJson<T>(v: T | string): T {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v;
}

function fromDb(row: CredentialRow): CredentialRow {
  return { ...row, checks_passed: parseJson(row.checks_passed), applied_fields: parseJson(row.applied_fields) };
}

export interface NewCredential {
  id: string;
  type: string;
  image: Buffer;
  imageType: string;
  extraction: unknown;
  checks: CheckResult[];
}

/** Inserts a pending credential, its image and extraction sealed under the profile's key. */
export async function insertCredential(trx: Knex.Transaction, profile: OpenProfile, c: NewCredential): Promise<void> {
  await trx('credentials').insert({
    id: c.id,
    profile_id: profile.id,
    type: c.type,
    state: 'pending_confirmation',
    image: sealForProfile(profile, c.image, aad(profile.id, c.id, 'image')),
    image_type: c.imageType,
    extraction: sealForProfile(profile, JSON.stringify(c.extraction), aad(profile.id, c.id, 'extraction')),
    checks: sealForProfile(profile, JSON.stringify(c.checks), aad(profile.id, c.id, 'checks')),
    checks_passed: JSON.stringify(c.checks.filter((k) => k.passed === true).map((k) => k.check)),
  });
}

/** One credential of the profile, or undefined; `lock` holds it for the rest of the transaction. */
export async function findCredential(q: Queryable, profileId: string, id: string, lock = false): Promise<CredentialRow | undefined> {
  const builder = q('credentials').where({ id, profile_id: profileId }).first();
  if (lock) builder.forUpdate();
  const row = (await builder) as CredentialRow | undefined;
  return row ? fromDb(row) : undefined;
}

/** The profile's credentials, newest first, after the position (created_at, id) of `after`. */
export async function listCredentialRows(
  q: Queryable,
  profileId: string,
  limit: number,
  after?: { t: string; id: string },
): Promise<CredentialRow[]> {
  const builder = q('credentials')
    .select('id', 'profile_id', 'type', 'state', 'image_type', 'extraction', 'checks', 'checks_passed', 'applied_fields', 'created_at', 'decided_at')
    .where({ profile_id: profileId })
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit);
  if (after) builder.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.t, after.id]);
  return ((await builder) as CredentialRow[]).map((r) => fromDb({ ...r, image: null }));
}

/** Opens the sealed extraction of a row (undefined once discarded). */
export function openExtraction<T>(profile: OpenProfile, row: CredentialRow): T | undefined {
  if (!row.extraction) return undefined;
  return JSON.parse(openForProfile(profile, row.extraction, aad(profile.id, row.id, 'extraction')).toString('utf8')) as T;
}

/** Opens the sealed checks of a row (empty once discarded). */
export function openChecks(profile: OpenProfile, row: CredentialRow): CheckResult[] {
  if (!row.checks) return [];
  return JSON.parse(openForProfile(profile, row.checks, aad(profile.id, row.id, 'checks')).toString('utf8')) as CheckResult[];
}

/** Opens the sealed image of a row (undefined once discarded). */
export function openImage(profile: OpenProfile, row: CredentialRow): Buffer | undefined {
  if (!row.image) return undefined;
  return openForProfile(profile, row.image, aad(profile.id, row.id, 'image'));
}

/** Marks a credential confirmed, with the fields it wrote. */
export async function markConfirmed(trx: Knex.Transaction, id: string, applied: readonly AppliedField[]): Promise<void> {
  await trx('credentials')
    .where({ id })
    .update({ state: 'confirmed', decided_at: new Date(), applied_fields: JSON.stringify(applied) });
}

/** Marks a credential rejected and discards its image and extraction. */
export async function markRejected(trx: Knex.Transaction, id: string): Promise<void> {
  await trx('credentials')
    .where({ id })
    .update({ state: 'rejected', decided_at: new Date(), image: null, image_type: null, extraction: null, checks: null });
}

/** Deletes a credential row. */
export async function deleteCredentialRow(trx: Knex.Transaction, id: string): Promise<void> {
  await trx('credentials').where({ id }).delete();
}

/** A credential carried from another instance (the portable container), sealed anew under this profile's key. */
export interface CarriedCredential extends NewCredential {
  appliedFields: AppliedField[];
  createdAt: Date;
  decidedAt: Date | null;
}

/** Inserts a confirmed credential carried from another instance, its image, extraction and checks sealed here. */
export async function insertCarriedCredential(trx: Knex.Transaction, profile: OpenProfile, c: CarriedCredential): Promise<void> {
  await trx('credentials').insert({
    id: c.id,
    profile_id: profile.id,
    type: c.type,
    state: 'confirmed',
    image: sealForProfile(profile, c.image, aad(profile.id, c.id, 'image')),
    image_type: c.imageType,
    extraction: sealForProfile(profile, JSON.stringify(c.extraction), aad(profile.id, c.id, 'extraction')),
    checks: sealForProfile(profile, JSON.stringify(c.checks), aad(profile.id, c.id, 'checks')),
    checks_passed: JSON.stringify(c.checks.filter((k) => k.passed === true).map((k) => k.check)),
    applied_fields: JSON.stringify(c.appliedFields),
    created_at: c.createdAt,
    decided_at: c.decidedAt,
  });
}
