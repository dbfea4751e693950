/**
 * Health records (issue 17, item 1): FHIR R4 resources of six types, validated against the official schema,
 * sealed under the profile's key, each governed by a catalogue field whose ring is the record's ring. Every change
 * re-encrypts the JWE of the person's live health links in the same transaction, so a doctor sees the current
 * version.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AppDeps } from '../../deps.ts';
import { HealthRecordNotFound, InvalidCursor, InvalidRequest } from '../../errors.ts';
import { recordAudit } from '../../audit/audit.ts';
import { withTransaction } from '../../store/db.ts';
import type { OpenProfile } from '../../disclosure/container.ts';
import { readProfileSnapshot } from '../../disclosure/snapshot.repo.ts';
import { openUserProfile } from '../../profiles/profile.repo.ts';
import { checkAttachments, checkBundle, checkResource, GOVERNING_FIELD, toBundle, type FhirResource, type RecordType } from './fhir.ts';
import { deleteRecord, findRecord, insertRecord, listRecords, updateRecord, type RecordRow } from './health.repo.ts';
import { resealLinks } from './links.ts';
import { healthClock } from './clock.ts';
import { openRecord, sealRecord } from './sealed.ts';

/** Entries a Bundle import takes at most (the body limit bounds their size). */
const MAX_IMPORT_ENTRIES = 500;

export interface RecordView {
  record_id: string;
  resource_type: string;
  /** The catalogue field that governs the record, and its ring for this person. */
  field: string;
  ring: string;
  version: number;
  created_at: string;
  updated_at: string;
  resource: FhirResource;
}

/** The 400 of a resource that breaks the FHIR schema (or is an attachment of the wrong kind), naming each path. */
function assertValid(resource: FhirResource): void {
  const problems = checkResource(resource);
  if (problems.length === 0) problems.push(...checkAttachments(resource));
  if (problems.length > 0)
    throw InvalidRequest.validation(problems, `the record is not valid FHIR R4: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
}

/** The ring of each governing field for this person: where they placed it, else its default. */
async function ringsByField(deps: AppDeps, userId: string): Promise<(field: string) => string> {
  const snapshot = await readProfileSnapshot(deps.db, userId);
  const placed = new Map((snapshot?.fields ?? []).map((f) => [f.field, f.ring]));
  return (field) => placed.get(field) ?? deps.policy.policies.catalogue.fields.get(field)?.ring ?? 'private';
}

function view(profile: OpenProfile, row: RecordRow, ringOf: (field: string) => string): RecordView {
  const field = GOVERNING_FIELD[row.resource_type as RecordType];
  return {
    record_id: row.id,
    resource_type: row.resource_type,
    field,
    ring: ringOf(field),
    version: row.version,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    resource: openRecord(profile, row),
  };
}

async function inserted(trx: Knex.Transaction, profile: OpenProfile, userId: string, resource: FhirResource, at: Date) {
  const id = randomUUID();
  return insertRecord(trx, {
    id,
    user_id: userId,
    resource_type: resource.resourceType,
    resource: sealRecord(profile, id, resource),
    created_at: at,
  });
}

export async function createRecord(deps: AppDeps, userId: string, resource: FhirResource, clientIp: string): Promise<RecordView> {
  assertValid(resource);
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const row = await withTransaction(deps.db, async (trx) => {
    const now = healthClock.now();
    const created = await inserted(trx, profile, userId, resource, now);
    await resealLinks(trx, profile, userId);
    await recordAudit(trx, {
      action: 'health_record.created',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { record_id: created.id, resource_type: created.resource_type },
    });
    return created;
  });
  return view(profile, row, await ringsByField(deps, userId));
}

export async function getRecord(deps: AppDeps, userId: string, id: string): Promise<RecordView> {
  const row = await findRecord(deps.db, userId, id);
  if (!row) throw new HealthRecordNotFound('no such health record');
  return view(await openUserProfile(deps.db, deps.keyring, userId), row, await ringsByField(deps, userId));
}

const POSITION = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([0-9a-f-]{36})$/;

export async function listOwnRecords(
  deps: AppDeps,
  userId: string,
  query: { type?: string; limit?: number; cursor?: string },
): Promise<{ records: RecordView[]; next_cursor: string | null }> {
  const limit = query.limit ?? 20;
  let after: { at: string; id: string } | undefined;
  if (query.cursor) {
    const m = POSITION.exec(Buffer.from(query.cursor, 'base64url').toString('utf8'));
    if (!m) throw new InvalidCursor('the cursor is not one this list gave: start again without it');
    after = { at: m[1], id: m[2] };
  }
  const rows = await listRecords(deps.db, userId, { types: query.type ? [query.type] : undefined, after, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const ringOf = await ringsByField(deps, userId);
  const last = page[page.length - 1];
  return {
    records: page.map((r) => view(profile, r, ringOf)),
    next_cursor: rows.length > limit ? Buffer.from(`${new Date(last.created_at).toISOString()}|${last.id}`).toString('base64url') : null,
  };
}

export async function changeRecord(deps: AppDeps, userId: string, id: string, resource: FhirResource, clientIp: string): Promise<RecordView> {
  const existing = await findRecord(deps.db, userId, id);
  if (!existing) throw new HealthRecordNotFound('no such health record');
  if (resource.resourceType !== existing.resource_type) {
    throw InvalidRequest.validation([
      { path: 'resourceType', message: `must stay ${existing.resource_type}: delete this record and create a ${resource.resourceType} instead` },
    ]);
  }
  assertValid(resource);
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const row = await withTransaction(deps.db, async (trx) => {
    const updated = await updateRecord(trx, userId, id, sealRecord(profile, id, resource), healthClock.now());
    if (!updated) throw new HealthRecordNotFound('no such health record');
    await resealLinks(trx, profile, userId);
    await recordAudit(trx, {
      action: 'health_record.updated',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { record_id: id, resource_type: updated.resource_type, version: updated.version },
    });
    return updated;
  });
  return view(profile, row, await ringsByField(deps, userId));
}

export async function removeRecord(deps: AppDeps, userId: string, id: string, clientIp: string): Promise<void> {
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  await withTransaction(deps.db, async (trx) => {
    if (!(await deleteRecord(trx, userId, id))) throw new HealthRecordNotFound('no such health record');
    await resealLinks(trx, profile, userId);
    await recordAudit(trx, {
      action: 'health_record.deleted',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { record_id: id },
    });
  });
}

/** Every record of the person as one FHIR Bundle (type collection). */
export async function exportBundle(deps: AppDeps, userId: string): Promise<FhirResource> {
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const rows = await listRecords(deps.db, userId, {});
  return toBundle(
    rows.map((r) => ({ id: r.id, resource: openRecord(profile, r) })),
    healthClock.now(),
  );
}

/** Imports every entry of a Bundle as a record, all or none: the whole Bundle is checked before anything is written. */
export async function importBundle(
  deps: AppDeps,
  userId: string,
  bundle: FhirResource,
  clientIp: string,
): Promise<{ imported: number; records: { record_id: string; resource_type: string }[] }> {
  const entries = (bundle.entry as { resource?: FhirResource }[] | undefined) ?? [];
  if (entries.length > MAX_IMPORT_ENTRIES) {
    throw InvalidRequest.validation([
      { path: 'Bundle.entry', message: `has ${entries.length} entries; import at most ${MAX_IMPORT_ENTRIES} at a time` },
    ]);
  }
  const problems = checkBundle(bundle);
  entries.forEach((e, i) => {
    if (!e.resource) problems.push({ path: `Bundle.entry[${i}].resource`, message: 'is required: every entry must carry a record' });
    else
      problems.push(
        ...checkAttachments(e.resource).map((p) => ({ ...p, path: p.path.replace(/^DocumentReference/, `Bundle.entry[${i}].resource`) })),
      );
  });
  if (problems.length > 0)
    throw InvalidRequest.validation(
      problems.slice(0, 10),
      `the Bundle is not valid FHIR R4: ${problems
        .slice(0, 10)
        .map((p) => `${p.path} ${p.message}`)
        .join('; ')}`,
    );
  const profile = await openUserProfile(deps.db, deps.keyring, userId);
  const rows = await withTransaction(deps.db, async (trx) => {
    const now = healthClock.now();
    const out: RecordRow[] = [];
    // A millisecond apart, so that the records list (and export) in the Bundle's order.
    for (const [i, e] of entries.entries()) out.push(await inserted(trx, profile, userId, e.resource!, new Date(now.getTime() + i)));
    await resealLinks(trx, profile, userId);
    await recordAudit(trx, {
      action: 'health_records.imported',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { record_ids: out.map((r) => r.id), count: out.length },
    });
    return out;
  });
  return { imported: rows.length, records: rows.map((r) => ({ record_id: r.id, resource_type: r.resource_type })) };
}
