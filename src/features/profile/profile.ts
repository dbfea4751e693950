/**
 * The profile: the owner's full view, updates checked against policies/fields.yaml (seed API 7), the avatar, and
 * the public directory, which shows of each person only what the policy engine's public view lets the public see.
 */
import { createHash } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import { AvatarNotFound, InvalidRequest, UserNotFound, type ErrorDetail } from '../../errors.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import type { Catalogue } from '../../policy/catalogue.ts';
import { withTransaction } from '../../store/db.ts';
import { checkCurrentPassword, emailTaken, handleTaken } from '../accounts/accounts.ts';
import { findUserByEmailIndex, findUserByHandle, findUserById, isUniqueViolation, updateUser, type UserRow } from '../accounts/accounts.repo.ts';
import { emailIndex, requestEmailChange } from '../accounts/email.ts';
import { cleanAvatar } from './avatar.ts';
import { REQUIRED_FIELDS, fieldCatalogue } from '../../profiles/catalogue.ts';
import { decodeCursor, encodeCursor, type PageRequest } from './pagination.ts';
import { avatarUrl, presentValue, type ImageValue } from '../../disclosure/values.ts';
import { openProfile } from '../../disclosure/container.ts';
import { deleteAvatar, findAvatarMeta, readAvatarImage, upsertAvatar } from './avatars.repo.ts';
import {
  bumpProfileVersionOfUser,
  bumpVersion,
  findProfileByHandle,
  findProfileByUser,
  findProfilesByIds,
  listProfilesByHandle,
  lockProfile,
  openFieldRows,
  readFieldRings,
  readFields,
  readProfileWithFields,
  writeFields,
  type DirectoryRow,
  type FieldWrite,
} from '../../profiles/profile.repo.ts';
import { assertIfMatch } from './etag.ts';
import { checkFieldValue } from '../../profiles/values.ts';
import { findCredentialEvidence, verifiedBy, type CredentialEvidence } from '../../profiles/provenance.ts';
import { enqueueProfileEvents } from '../deliveries/events.ts';

export const USER_NOT_FOUND = 'user not found';

/** The owner's whole profile: every catalogue field with its value, ring, provenance and last change. */
export async function getOwnProfile(deps: AppDeps, userId: string) {
  const catalogue = fieldCatalogue(deps);
  const { profile: row, fields: sealed } = (await readProfileWithFields(deps.db, userId))!;
  const profile = openProfile(deps.keyring, row);
  const stored = openFieldRows(profile, sealed);
  const rings = deps.policy.engine.effectiveRings(stored.values());
  const handle = stored.get('handle')?.value as string;
  const verifiers = [...stored.values()].map((f) => verifiedBy(f.provenance)).filter((id) => id !== undefined);
  const evidence = await findCredentialEvidence(deps.db, profile.id, [...new Set(verifiers)]);
  const fields: Record<string, unknown> = {};
  for (const def of catalogue.fields.values()) {
    const own = stored.get(def.name);
    fields[def.name] = {
      value: presentValue(deps, def, stored, handle),
      ring: rings.get(def.name),
      type: def.type,
      ...(def.claim ? { claim: def.claim } : {}),
      ...(def.derivedFrom ? { derived_from: def.derivedFrom } : {}),
      provenance: def.derivedFrom ? 'derived' : own?.hasValue ? own.provenance : null,
      updated_at: own?.hasValue ? new Date(own.updatedAt).toISOString() : null,
      ...verification(own?.hasValue ? own.provenance : undefined, evidence),
    };
  }
  return {
    profile_id: profile.id,
    user_id: userId,
    version: row.version,
    updated_at: new Date(row.updated_at).toISOString(),
    fields,
  };
}

/** The `verification` of a field verified by a confirmed credential (issue 14); nothing for a self-asserted one. */
function verification(provenance: string | undefined, evidence: Map<string, CredentialEvidence>) {
  const id = verifiedBy(provenance);
  const found = id ? evidence.get(id) : undefined;
  if (!id || !found) return {};
  return {
    verification: {
      verified_by: `credential ${id}`,
      credential_id: id,
      credential_type: found.type,
      checks: found.passed,
      authenticity_proven: false,
    },
  };
}

function invalid(details: ErrorDetail[]): InvalidRequest {
  return InvalidRequest.validation(details);
}

/** Checks every named field against the catalogue; nothing is written unless all of them pass. */
function checkUpdates(catalogue: Catalogue, updated: Record<string, unknown>): FieldWrite[] {
  const entries = Object.entries(updated);
  if (entries.length === 0) {
    throw invalid([{ path: 'updated_fields', message: 'is empty: name at least one field to change, like {"bio": "…"}' }]);
  }
  const details: ErrorDetail[] = [];
  const writes: FieldWrite[] = [];
  for (const [field, raw] of entries) {
    const path = `updated_fields.${field}`;
    const def = catalogue.fields.get(field);
    if (!def) {
      details.push({ path, message: `is not a profile field: GET /api/v1/profile lists the fields there are` });
      continue;
    }
    if (raw === null) {
      if (REQUIRED_FIELDS.has(field)) details.push({ path, message: 'cannot be removed: change it instead' });
      else if (def.derivedFrom) details.push({ path, message: `is computed from ${def.derivedFrom}: remove ${def.derivedFrom} instead` });
      else if (def.type === 'image') details.push({ path, message: 'is removed with DELETE /api/v1/profile/avatar' });
      else writes.push({ field, value: null, ring: def.ring, provenance: 'user' });
      continue;
    }
    const checked = checkFieldValue(catalogue, def, raw, path);
    if (checked.ok) writes.push({ field, value: checked.value, ring: def.ring, provenance: 'user' });
    else details.push(...checked.problems);
  }
  if (details.length > 0) throw invalid(details);
  return writes;
}

/**
 * Seed API 7: changes profile fields, all or none. A new e-mail address needs the current password and takes
 * effect only once the code mailed to it is entered (a stolen session alone cannot move the account's mail and
 * password resets elsewhere); the old address is told of the request at once.
 */
export async function updateProfileInfo(
  deps: AppDeps,
  caller: Extract<Caller, { kind: 'user' }>,
  updated: Record<string, unknown>,
  clientIp: string,
  ifMatch?: string,
  currentPassword?: string,
) {
  const checked = checkUpdates(fieldCatalogue(deps), updated);
  const patch: Parameters<typeof updateUser>[2] = {};
  const newEmail = checked.find((w) => w.field === 'email')?.value as string | undefined;
  const newHandle = checked.find((w) => w.field === 'handle')?.value as string | undefined;
  // The account row matters only when the e-mail address or the handle changes.
  const user = newEmail !== undefined || newHandle !== undefined ? ((await findUserById(deps.db, caller.userId)) as UserRow) : undefined;
  const userId = caller.userId;
  let emailChange: string | undefined;
  if (user && newEmail !== undefined && emailIndex(deps.keyring, newEmail) !== user.email_index) {
    if (currentPassword === undefined || currentPassword === '') {
      throw InvalidRequest.validation(
        [{ path: 'current_password', message: 'is required when updated_fields.email changes the address' }],
        'current_password is required to change your e-mail address',
      );
    }
    await checkCurrentPassword(deps, user, currentPassword, clientIp, 'email.change_failed');
    if (await findUserByEmailIndex(deps.db, emailIndex(deps.keyring, newEmail))) throw emailTaken();
    emailChange = newEmail;
  }
  // A new address is not written now: the profile keeps the old one until the new one's code is entered.
  const writes = emailChange === undefined ? checked : checked.filter((w) => w.field !== 'email');
  if (user && newHandle !== undefined && newHandle !== user.handle) {
    if (newHandle.toLowerCase() !== user.handle_lower && (await findUserByHandle(deps.db, newHandle))) throw handleTaken();
    patch.handle = newHandle;
  }
  try {
    return await withTransaction(deps.db, async (trx) => {
      // One statement counts the change and locks the row until commit, so the If-Match check (against the
      // version before this change) and the write apply to the same version: no other update slips in between.
      const locked = (await bumpProfileVersionOfUser(trx, userId))!;
      const version = locked.version;
      assertIfMatch(ifMatch, version - 1);
      const profile = openProfile(deps.keyring, locked);
      await writeFields(trx, profile, writes);
      if (Object.keys(patch).length > 0) await updateUser(trx, userId, patch);
      if (user && emailChange !== undefined) {
        const oldEmail = (await readFields(trx, profile, ['email'])).get('email')?.value as string;
        await requestEmailChange(trx, deps, profile, patch.handle ?? user.handle, oldEmail, emailChange);
      }
      // The change events, in this transaction: a service is told of the write exactly when it commits.
      const told = await enqueueProfileEvents(
        trx,
        deps,
        userId,
        version,
        writes.map((w) => w.field),
      );
      await recordAudit(trx, {
        action: 'profile.update',
        actor: `user:${userId}`,
        subject: `user:${userId}`,
        clientIp,
        data: {
          profile_id: profile.id,
          version,
          fields: writes.map((w) => w.field),
          email_change_requested: emailChange !== undefined,
          services_told: told,
        },
      });
      return {
        profile_id: profile.id,
        version,
        updated_fields: writes.map((w) => w.field),
        services_told: told,
        email_verification_sent: emailChange !== undefined,
        email_change_pending: emailChange !== undefined,
      };
    });
  } catch (err) {
    if (isUniqueViolation(err, 'users_handle_lower_unique')) throw handleTaken();
    throw err;
  }
}

export interface PublicProfile {
  handle: string;
  fields: Record<string, unknown>;
}

/**
 * One person as the public sees them, or undefined when they are not listed. Only the fields of the engine's public
 * view (and the sources of visible derived fields) are ever decrypted.
 */
async function publicView(
  deps: AppDeps,
  row: DirectoryRow,
  rings: Iterable<{ field: string; ring: string }>,
  profileRow?: Parameters<typeof openProfile>[1],
): Promise<PublicProfile | undefined> {
  const catalogue = fieldCatalogue(deps);
  const { fields: visible, listed } = deps.policy.engine.publicView(rings);
  if (!listed) return undefined;
  const needed = new Set<string>();
  for (const field of visible) needed.add(catalogue.fields.get(field)?.derivedFrom ?? field);
  const pRow = profileRow ?? (await findProfilesByIds(deps.db, [row.profile_id]))[0];
  const stored = await readFields(deps.db, openProfile(deps.keyring, pRow), [...needed]);
  const fields: Record<string, unknown> = {};
  for (const field of visible) {
    const value = presentValue(deps, catalogue.fields.get(field)!, stored, row.handle);
    if (value !== null && value !== undefined) fields[field] = value;
  }
  return { handle: row.handle, fields };
}

/** `GET /profiles/{handle}`: 404 `user not found` when there is no such person or they are not listed. */
export async function getPublicProfile(deps: AppDeps, handle: string): Promise<PublicProfile> {
  const row = await findProfileByHandle(deps.db, handle);
  if (!row) throw new UserNotFound(USER_NOT_FOUND);
  const rings = (await readFieldRings(deps.db, [row.profile_id])).get(row.profile_id) ?? [];
  const view = await publicView(deps, row, rings);
  if (!view) throw new UserNotFound(USER_NOT_FOUND);
  return view;
}

/** How many people one directory page may look at before it answers with fewer entries and a cursor to go on. */
const DIRECTORY_SCAN_LIMIT = 1000;

/**
 * `GET /profiles`: listed people in handle order. The one read that goes to the replica (`deps.replica`) when there
 * is one: a page of the public directory may be a replication lag behind the people's own edits. It decides nothing
 * for anyone: it shows what the public view lets the public see, and every read that grants or refuses access
 * (the data API, sign-in, consent, a person's own pages, GET /profiles/{handle} too) stays on the primary.
 */
export async function listPublicProfiles(deps: AppDeps, page: PageRequest): Promise<{ profiles: PublicProfile[]; next_cursor: string | null }> {
  let after = page.cursor
    ? decodeCursor<{ h: string }>(page.cursor, (v): v is Record<string, unknown> & { h: string } => typeof v.h === 'string' && v.h !== '').h
    : undefined;
  const batchSize = page.limit + 1;
  const found: PublicProfile[] = [];
  let scanned = 0;
  let more = true;
  const directory = deps.replica ?? deps.db;
  const directoryDeps = directory === deps.db ? deps : { ...deps, db: directory };
  scan: while (scanned < DIRECTORY_SCAN_LIMIT) {
    const rows = await listProfilesByHandle(directory, after, batchSize);
    const lastBatch = rows.length < batchSize;
    const ids = rows.map((r) => r.profile_id);
    const rings = await readFieldRings(directory, ids);
    const profileRows = new Map((await findProfilesByIds(directory, ids)).map((p) => [p.id, p]));
    for (const [i, row] of rows.entries()) {
      scanned++;
      after = row.handle_lower;
      const view = await publicView(directoryDeps, row, rings.get(row.profile_id) ?? [], profileRows.get(row.profile_id));
      if (view) found.push(view);
      if (found.length === page.limit) {
        more = !(lastBatch && i === rows.length - 1);
        break scan;
      }
    }
    if (lastBatch) {
      more = false;
      break;
    }
  }
  return { profiles: found, next_cursor: more && after !== undefined ? encodeCursor({ h: after }) : null };
}

/** Stores a new avatar for the caller; the `avatar` field then points at it. */
export async function setAvatar(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>, upload: Buffer, clientIp: string) {
  const image = await cleanAvatar(upload);
  const sha256 = createHash('sha256').update(image.data).digest('hex');
  const catalogue = fieldCatalogue(deps);
  return withTransaction(deps.db, async (trx) => {
    const profile = openProfile(deps.keyring, await lockProfile(trx, (await findProfileByUser(trx, caller.userId))!.id));
    await upsertAvatar(trx, profile, image.data, {
      content_type: image.contentType,
      sha256,
      bytes: image.data.length,
      width: image.width,
      height: image.height,
    });
    const value: ImageValue = { sha256, content_type: image.contentType, width: image.width, height: image.height };
    await writeFields(trx, profile, [{ field: 'avatar', value, ring: catalogue.fields.get('avatar')!.ring, provenance: 'user' }]);
    const version = await bumpVersion(trx, profile.id);
    await recordAudit(trx, {
      action: 'profile.avatar_set',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { profile_id: profile.id, version, bytes: image.data.length },
    });
    const user = (await findUserById(trx, caller.userId))!;
    return {
      avatar: {
        url: avatarUrl(deps, user.handle, value),
        content_type: image.contentType,
        width: image.width,
        height: image.height,
        bytes: image.data.length,
      },
      version,
    };
  });
}

/** Deletes the caller's picture and empties the avatar field. */
export async function removeAvatar(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>, clientIp: string) {
  const catalogue = fieldCatalogue(deps);
  return withTransaction(deps.db, async (trx) => {
    const profile = openProfile(deps.keyring, await lockProfile(trx, (await findProfileByUser(trx, caller.userId))!.id));
    if (!(await deleteAvatar(trx, profile.id))) throw new AvatarNotFound('you have no avatar to remove');
    await writeFields(trx, profile, [{ field: 'avatar', value: null, ring: catalogue.fields.get('avatar')!.ring, provenance: 'user' }]);
    const version = await bumpVersion(trx, profile.id);
    await recordAudit(trx, {
      action: 'profile.avatar_removed',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { profile_id: profile.id, version },
    });
    return { version };
  });
}

/** The picture of `handle`: its owner always sees it, others only while the avatar field is public. */
export async function getAvatarImage(deps: AppDeps, caller: Caller, handle: string) {
  const row = await findProfileByHandle(deps.db, handle);
  if (!row) throw new UserNotFound(USER_NOT_FOUND);
  const isOwner = caller.kind === 'user' && caller.userId === row.user_id;
  if (!isOwner) {
    const { fields: visible, listed } = deps.policy.engine.publicView((await readFieldRings(deps.db, [row.profile_id])).get(row.profile_id) ?? []);
    if (!listed) throw new UserNotFound(USER_NOT_FOUND);
    if (!visible.has('avatar') || !(await findAvatarMeta(deps.db, row.profile_id))) {
      throw new AvatarNotFound('this user has no public avatar');
    }
  }
  const [profileRow] = await findProfilesByIds(deps.db, [row.profile_id]);
  const found = await readAvatarImage(deps.db, openProfile(deps.keyring, profileRow));
  if (!found) throw new AvatarNotFound('this user has no avatar');
  return { ...found, isOwner };
}
