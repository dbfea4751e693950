/**
 * Government credentials (seed API 2, issue 14): a person photographs the back of their licence or ID card, the
 * PDF417 barcode is read and parsed, the data is checked (honestly: the barcode proves nothing by itself), and
 * kept pending until they confirm it. Confirmation writes the chosen fields into the profile through its one write
 * path, each with its provenance: `credential:<id>` for a value taken as read, `user` for one they corrected. The
 * image and the extraction are sealed under the profile's key and shown only to their owner; services see the
 * confirmed fields as ordinary profile fields, released by the disclosure pipeline under the policy like any other.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps, Caller, UploadedFile } from '../../deps.ts';
import { openProfile, type OpenProfile } from '../../disclosure/container.ts';
import {
  BarcodeUnreadable,
  CredentialChecksFailed,
  CredentialFieldsMissing,
  CredentialNotFound,
  CredentialNotPending,
  CredentialTypeMismatch,
  InvalidImage,
  InvalidRequest,
  NotAamva,
  PayloadTooLarge,
  UnknownCredentialType,
  UnsupportedImage,
  type ErrorDetail,
} from '../../errors.ts';
import { fieldCatalogue } from '../../profiles/catalogue.ts';
import {
  bumpProfileVersionOfUser,
  bumpVersion,
  findProfileByUser,
  lockProfile,
  readFields,
  writeFields,
  type FieldWrite,
} from '../../profiles/profile.repo.ts';
import { credentialProvenance, unverifyFields } from '../../profiles/provenance.ts';
import { checkFieldValue } from '../../profiles/values.ts';
import { withTransaction } from '../../store/db.ts';
import { reserveUnderLimit, type Limit } from '../accounts/throttle.ts';
import { enqueueProfileEvents } from '../deliveries/events.ts';
import { decodeCursor, encodeCursor, type PageRequest } from '../profile/pagination.ts';
import { AamvaError, parseAamva, type AamvaData } from './aamva.ts';
import { decodePdf417, MAX_INPUT_PIXELS } from './barcode.ts';
import { CREDENTIAL_TYPES, chooseType, typeByCode, typeFor } from './catalogue.ts';
import { AUTHENTICITY, failedRequired, runChecks } from './checks.ts';
import {
  deleteCredentialRow,
  findCredential,
  insertCredential,
  listCredentialRows,
  markConfirmed,
  markRejected,
  openExtraction,
  openChecks,
  openImage,
  type AppliedField,
  type CredentialRow,
} from './credentials.repo.ts';

type UserCaller = Extract<Caller, { kind: 'user' }>;

/** A credential photo may be at most 10 MB (the seed's phones take large pictures). */
const MAX_CREDENTIAL_BYTES = 10 * 1024 * 1024;
/** The kept copy of the image: at most this many pixels a side, re-encoded without metadata. */
const KEPT_SIDE = 2000;
/** Reading a barcode costs seconds of CPU: scans per person per hour. */
const SCANS: Limit = { name: 'credential-scan', max: 20, windowSeconds: 3600, message: 'too many credential photos' };

/** The profile fields a confirmation may write. */
const CONFIRMABLE_FIELDS = ['name', 'given_name', 'family_name', 'date_of_birth', 'home_address', 'drivers_license_number'] as const;

type ImageKind = 'jpeg' | 'png' | 'webp';

function sniff(data: Buffer): ImageKind | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The catalogue, as GET /credential-types answers it. */
export function credentialTypes() {
  return CREDENTIAL_TYPES.map((t) => ({ code: t.code, label: t.label, document: t.document, country: t.country, aliases: [...t.aliases] }));
}

/** The extraction as stored (sealed) and shown to the owner. */
export interface Extraction {
  document_type: 'DL' | 'ID';
  document_number?: string;
  full_name?: string;
  family_name?: string;
  given_name?: string;
  middle_name?: string;
  name_suffix?: string;
  date_of_birth?: string;
  sex?: string;
  address?: Record<string, string>;
  issue_date?: string;
  expiry_date?: string;
  issuer: { iin: string; jurisdiction: string | null; name: string | null; country: string | null };
  vehicle_class?: string;
  restrictions?: string;
  endorsements?: string;
  compliance_type?: string;
  document_discriminator?: string;
  aamva_version: number;
  jurisdiction_version: number | null;
  jurisdiction_fields: Record<string, string>;
}

function extractionOf(data: AamvaData): Extraction {
  const full = [data.given_name, data.middle_name, data.family_name, data.name_suffix].filter(Boolean).join(' ');
  const out: Extraction = {
    document_type: data.document,
    issuer: { iin: data.iin, jurisdiction: data.issuer?.code ?? null, name: data.issuer?.name ?? null, country: data.issuer?.country ?? null },
    aamva_version: data.version,
    jurisdiction_version: data.jurisdiction_version,
    jurisdiction_fields: data.jurisdiction_fields,
  };
  const copy = {
    document_number: data.document_number,
    full_name: full || undefined,
    family_name: data.family_name,
    given_name: data.given_name,
    middle_name: data.middle_name,
    name_suffix: data.name_suffix,
    date_of_birth: data.date_of_birth,
    sex: data.sex,
    address: data.address as Record<string, string> | undefined,
    issue_date: data.issue_date,
    expiry_date: data.expiry_date,
    vehicle_class: data.vehicle_class,
    restrictions: data.restrictions,
    endorsements: data.endorsements,
    compliance_type: data.compliance_type,
    document_discriminator: data.document_discriminator,
  };
  for (const [k, v] of Object.entries(copy)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** The profile values a confirmation would write, from an extraction: the catalogue's names for them. */
function proposedFields(e: Extraction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.full_name) out.name = e.full_name;
  const given = [e.given_name, e.middle_name].filter(Boolean).join(' ');
  if (given) out.given_name = given;
  if (e.family_name) out.family_name = e.family_name;
  if (e.date_of_birth) out.date_of_birth = e.date_of_birth;
  if (e.address && Object.keys(e.address).length > 0) out.home_address = e.address;
  if (e.document_type === 'DL' && e.document_number) out.drivers_license_number = e.document_number;
  return out;
}

/** The kept copy of a photo: upright, at most KEPT_SIDE a side, JPEG, with no metadata (no EXIF, no GPS). */
async function keptImage(upload: Buffer): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp(upload, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, animated: false })
    .rotate()
    .resize({ width: KEPT_SIDE, height: KEPT_SIDE, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 85 })
    .toBuffer();
}

const NO_BARCODE =
  'no barcode could be read in this photo: photograph the back of the card, flat, in good light, with the whole barcode in the picture and in focus';

/** The parts of an add-credential request: `credential_type` and the `credential_image` file. */
export interface CredentialUpload {
  type: unknown;
  image: UploadedFile | undefined;
}

/**
 * Seed API 2: reads, parses and checks the photographed card and keeps it pending confirmation. Nothing is stored
 * unless all of that succeeds; the image is decoded before any transaction is opened.
 */
export async function addCredential(deps: AppDeps, caller: UserCaller, upload: CredentialUpload, clientIp: string) {
  const rawType = typeof upload.type === 'string' ? upload.type.trim() : '';
  if (rawType === '' || !upload.image || upload.image.data.length === 0) {
    const details: ErrorDetail[] = [];
    if (rawType === '') details.push({ path: 'credential_type', message: `is required: one of ${CREDENTIAL_TYPES.map((t) => t.code).join(', ')}` });
    if (!upload.image || upload.image.data.length === 0)
      details.push({ path: 'credential_image', message: 'is required: a JPEG, PNG or WebP photo of the back of the card' });
    throw new CredentialFieldsMissing(undefined, { details });
  }
  const choice = chooseType(rawType);
  if (!choice) {
    throw new UnknownCredentialType(
      `credential_type "${rawType.slice(0, 60)}" is not a credential type: use one of ${CREDENTIAL_TYPES.map((t) => t.code).join(', ')} (GET /api/v1/credential-types)`,
      {
        details: [{ path: 'credential_type', message: 'is not in the catalogue' }],
      },
    );
  }
  const image = upload.image.data;
  if (image.length > MAX_CREDENTIAL_BYTES) {
    throw new PayloadTooLarge(`credential_image is ${(image.length / 1024 / 1024).toFixed(1)} MB: send a photo of at most 10 MB`);
  }
  if (!sniff(image)) {
    throw new UnsupportedImage(
      'credential_image must be a JPEG, PNG or WebP photo: this file is none of them (its content was checked, not its name)',
      {
        details: [{ path: 'credential_image', message: 'is not JPEG, PNG or WebP' }],
      },
    );
  }
  await reserveUnderLimit(deps.db, SCANS, caller.userId);
  let kept: Buffer;
  try {
    // Decodes the whole image (failOn: 'error'), so a damaged or truncated file is refused here, before the barcode.
    kept = await keptImage(image);
  } catch {
    throw new InvalidImage('credential_image could not be decoded: the file may be damaged, truncated or too large in pixels; take the photo again', {
      details: [{ path: 'credential_image', message: 'is not a readable image' }],
    });
  }
  const { payload } = await decodePdf417(image);
  if (payload === undefined)
    throw new BarcodeUnreadable(NO_BARCODE, { details: [{ path: 'credential_image', message: 'has no readable PDF417 barcode' }] });
  let data: AamvaData;
  try {
    data = parseAamva(payload);
  } catch (err) {
    if (err instanceof AamvaError) {
      throw new NotAamva(`the barcode was read but is not North American licence or ID card (AAMVA) data: ${err.message}`, {
        details: [{ path: 'credential_image', message: err.message }],
      });
    }
    throw err;
  }
  const country = data.country ?? data.issuer?.country;
  if (data.document !== choice.document || (choice.country && country && choice.country !== country)) {
    const actual = country ? typeFor(data.document, country) : undefined;
    throw new CredentialTypeMismatch(
      `credential_type says ${rawType.slice(0, 60)}, but the barcode is of ${actual ? `a ${actual.label} (${actual.code})` : `a ${data.document === 'DL' ? "driver's licence" : 'ID card'}`}: send the matching type`,
      { details: [{ path: 'credential_type', message: 'does not match the card' }] },
    );
  }
  const type = typeFor(data.document, country ?? choice.country ?? 'USA');
  const extraction = extractionOf(data);
  const id = randomUUID();
  return withTransaction(deps.db, async (trx) => {
    const profileRow = (await findProfileByUser(trx, caller.userId))!;
    const profile = openProfile(deps.keyring, profileRow);
    const accountName = (await readFields(trx, profile, ['name'])).get('name')?.value as string | undefined;
    const checks = runChecks(data, accountName);
    await insertCredential(trx, profile, { id, type: type.code, image: kept, imageType: 'image/jpeg', extraction, checks });
    await recordAudit(trx, {
      action: 'credential.added',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: {
        credential_id: id,
        type: type.code,
        checks_passed: checks.filter((c) => c.passed === true).map((c) => c.check),
        checks_failed: checks.filter((c) => c.passed === false).map((c) => c.check),
      },
    });
    return {
      credential_id: id,
      state: 'pending_confirmation' as const,
      credential_type: type.code,
      extracted: extraction,
      proposed_fields: proposedFields(extraction),
      checks,
      authenticity: AUTHENTICITY,
      confirmable: failedRequired(checks).length === 0,
    };
  });
}

async function ownProfile(deps: AppDeps, userId: string) {
  return openProfile(deps.keyring, (await findProfileByUser(deps.db, userId))!);
}

const notFound = () => new CredentialNotFound('you have no credential with this id: GET /api/v1/profile/credentials lists yours');

function summary(profile: OpenProfile, row: CredentialRow, extraction: Extraction | undefined) {
  return {
    credential_id: row.id,
    credential_type: row.type,
    label: typeByCode(row.type)?.label ?? row.type,
    state: row.state,
    issuer: extraction?.issuer ?? null,
    expiry_date: extraction?.expiry_date ?? null,
    checks: openChecks(profile, row),
    applied_fields: row.applied_fields,
    created_at: new Date(row.created_at).toISOString(),
    decided_at: row.decided_at ? new Date(row.decided_at).toISOString() : null,
  };
}

/** The owner's credentials, newest first. */
export async function listCredentials(deps: AppDeps, caller: UserCaller, page: PageRequest) {
  const profile = await ownProfile(deps, caller.userId);
  const after = page.cursor
    ? decodeCursor<{ t: string; id: string }>(page.cursor, (v): v is Record<string, unknown> & { t: string; id: string } => {
        return typeof v.t === 'string' && !Number.isNaN(Date.parse(v.t)) && typeof v.id === 'string' && /^[0-9a-f-]{36}$/.test(v.id);
      })
    : undefined;
  const rows = await listCredentialRows(deps.db, profile.id, page.limit + 1, after);
  const pageRows = rows.slice(0, page.limit);
  const last = pageRows.at(-1);
  return {
    credentials: pageRows.map((r) => summary(profile, r, openExtraction<Extraction>(profile, r))),
    next_cursor: rows.length > page.limit && last ? encodeCursor({ t: new Date(last.created_at).toISOString(), id: last.id }) : null,
  };
}

/** One credential with its extraction (until rejected) and where its image is. */
export async function showCredential(deps: AppDeps, caller: UserCaller, id: string) {
  const profile = await ownProfile(deps, caller.userId);
  const row = await findCredential(deps.db, profile.id, id);
  if (!row) throw notFound();
  const extraction = openExtraction<Extraction>(profile, row);
  return {
    ...summary(profile, row, extraction),
    extracted: extraction ?? null,
    proposed_fields: extraction && row.state === 'pending_confirmation' ? proposedFields(extraction) : null,
    authenticity: AUTHENTICITY,
    image_url: row.image ? `/api/v1/profile/credentials/${row.id}/image` : null,
  };
}

/** The kept photo, for its owner only (the route takes only the owner's session). */
export async function credentialImage(deps: AppDeps, caller: UserCaller, id: string) {
  const profile = await ownProfile(deps, caller.userId);
  const row = await findCredential(deps.db, profile.id, id);
  if (!row) throw notFound();
  const image = openImage(profile, row);
  if (!image) throw new CredentialNotFound('this credential was rejected: its image was discarded');
  return { data: image, contentType: row.image_type ?? 'image/jpeg' };
}

export interface Confirmation {
  /** Which proposed fields to write; all of them when absent. */
  fields?: string[] | undefined;
  /** Values the person corrects: written as self-asserted (`user`), never as verified. */
  corrections?: Record<string, unknown> | undefined;
}

/**
 * Step 5: the person accepts the extraction. The chosen fields are written in one transaction with the profile's
 * version counted and the change audited; a value taken as read gets provenance `credential:<id>`, a corrected one
 * `user`. A credential whose required checks failed cannot verify anything.
 */
export async function confirmCredential(deps: AppDeps, caller: UserCaller, id: string, body: Confirmation, clientIp: string) {
  const catalogue = fieldCatalogue(deps);
  const corrections = body.corrections ?? {};
  const details: ErrorDetail[] = [];
  for (const field of [...(body.fields ?? []), ...Object.keys(corrections)]) {
    if (!(CONFIRMABLE_FIELDS as readonly string[]).includes(field)) {
      details.push({
        path: body.fields?.includes(field) ? 'fields' : `corrections.${field}`,
        message: `${field} is not a field a credential sets: use ${CONFIRMABLE_FIELDS.join(', ')}`,
      });
    }
  }
  if (details.length > 0) throw InvalidRequest.validation(details);
  return withTransaction(deps.db, async (trx) => {
    const locked = (await bumpProfileVersionOfUser(trx, caller.userId))!;
    const profile = openProfile(deps.keyring, locked);
    const row = await findCredential(trx, profile.id, id, true);
    if (!row) throw notFound();
    if (row.state !== 'pending_confirmation') {
      throw new CredentialNotPending(
        `this credential is already ${row.state === 'confirmed' ? 'confirmed' : 'rejected'}: add the card again to read it anew`,
      );
    }
    const failed = failedRequired(openChecks(profile, row));
    if (failed.length > 0) {
      throw new CredentialChecksFailed(
        `this credential failed the checks ${failed.join(', ')}, so it cannot verify profile fields: photograph a valid card, or enter the values yourself with PUT /api/v1/profile/update-info (they are then self-asserted)`,
      );
    }
    const proposed = proposedFields(openExtraction<Extraction>(profile, row)!);
    const chosen = body.fields ?? [...new Set([...Object.keys(proposed), ...Object.keys(corrections)])];
    const writes: FieldWrite[] = [];
    const applied: AppliedField[] = [];
    for (const field of chosen) {
      const def = catalogue.fields.get(field);
      if (!def) continue;
      const corrected = Object.hasOwn(corrections, field);
      const raw = corrected ? corrections[field] : proposed[field];
      if (raw === undefined) {
        details.push({ path: 'fields', message: `${field} is not on this card: correct it in corrections, or leave it out` });
        continue;
      }
      const checked = checkFieldValue(catalogue, def, raw, corrected ? `corrections.${field}` : `extracted.${field}`);
      if (!checked.ok) {
        details.push(...checked.problems);
        continue;
      }
      // A "correction" that repeats what the card says changes nothing: the value stays verified.
      const asRead = !corrected || isDeepStrictEqual(checked.value, proposed[field]);
      const provenance = asRead ? credentialProvenance(row.id) : 'user';
      writes.push({ field, value: checked.value, ring: def.ring, provenance });
      applied.push({ field, provenance });
    }
    if (details.length > 0) throw InvalidRequest.validation(details);
    if (writes.length === 0) throw InvalidRequest.validation([{ path: 'fields', message: 'is empty: choose at least one field to write' }]);
    await writeFields(trx, profile, writes);
    await markConfirmed(trx, row.id, applied);
    const fields = writes.map((w) => w.field);
    // A confirmed credential is a profile write like update-info: the services that can read a changed field are
    // told in this transaction (one fan-out job), so a government service learns of the verified date of birth.
    const told = await enqueueProfileEvents(trx, deps, caller.userId, locked.version, fields);
    await recordAudit(trx, {
      action: 'credential.confirmed',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: {
        credential_id: row.id,
        profile_id: profile.id,
        version: locked.version,
        verified: applied.filter((a) => a.provenance !== 'user').map((a) => a.field),
        self_asserted: applied.filter((a) => a.provenance === 'user').map((a) => a.field),
      },
    });
    await recordAudit(trx, {
      action: 'profile.update',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { profile_id: profile.id, version: locked.version, fields, credential_id: row.id, services_told: told },
    });
    return {
      credential_id: row.id,
      state: 'confirmed' as const,
      profile_version: locked.version,
      fields: writes.map((w) => ({
        field: w.field,
        value: w.value,
        provenance: w.provenance,
        verified_by: w.provenance === 'user' ? null : `credential ${row.id}`,
      })),
      authenticity: AUTHENTICITY,
    };
  });
}

/** The person discards a pending extraction: its image and data are deleted; the row remains, rejected. */
export async function rejectCredential(deps: AppDeps, caller: UserCaller, id: string, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    const profile = openProfile(deps.keyring, (await findProfileByUser(trx, caller.userId))!);
    const row = await findCredential(trx, profile.id, id, true);
    if (!row) throw notFound();
    if (row.state !== 'pending_confirmation') {
      throw new CredentialNotPending(
        row.state === 'confirmed'
          ? 'this credential is confirmed: delete it instead (its fields then become self-asserted)'
          : 'this credential is already rejected',
      );
    }
    await markRejected(trx, row.id);
    await recordAudit(trx, {
      action: 'credential.rejected',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { credential_id: row.id },
    });
    return { credential_id: row.id, state: 'rejected' as const };
  });
}

/**
 * Deletes a credential, its image and extraction. The profile values it verified stay, but as self-asserted: the
 * evidence behind them is gone.
 */
export async function deleteCredential(deps: AppDeps, caller: UserCaller, id: string, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    // The profile row first, as confirm locks it: the two never wait on each other in opposite orders.
    const profileRow = await lockProfile(trx, (await findProfileByUser(trx, caller.userId))!.id);
    const row = await findCredential(trx, profileRow.id, id, true);
    if (!row) throw notFound();
    let unverified: string[] = [];
    let version: number | undefined;
    if (row.state === 'confirmed') {
      version = await bumpVersion(trx, profileRow.id);
      unverified = await unverifyFields(trx, profileRow.id, row.id);
    }
    await deleteCredentialRow(trx, row.id);
    await recordAudit(trx, {
      action: 'credential.deleted',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { credential_id: row.id, state: row.state, unverified_fields: unverified, ...(version ? { version } : {}) },
    });
    return { credential_id: row.id, deleted: true, unverified_fields: unverified };
  });
}
