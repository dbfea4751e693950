/**
 * Privilege rings (seed API 6): a person lists their rings, moves fields between the default rings, makes custom
 * rings that admit named roles or services, and downloads or uploads the whole configuration as YAML. Every change
 * is one transaction that bumps the person's rings version (which retires their cached abilities), and answers
 * with what the policy clips (`capped`): a ring can never widen a role beyond its ceiling or its rules.
 */
import { recordAudit } from '../../audit/audit.ts';
import { DefaultRing, InvalidRequest, RingExists, RingNotFound, UserNotFound, type ErrorDetail } from '../../errors.ts';
import type { AppDeps } from '../../deps.ts';
import { CUSTOM_PREFIX, type Capped, type UserRings } from '../../policy/engine.ts';
import { PolicyError, ProblemList, type PolicyProblem } from '../../policy/problems.ts';
import type { Policies } from '../../policy/load.ts';
import { parseUserRingsFile, userRingsToYaml } from '../../policy/user-rings.ts';
import { withTransaction } from '../../store/db.ts';
import type { Knex } from 'knex';
import { isUniqueViolation } from '../accounts/accounts.repo.ts';
import { reserveUnderLimit, type Limit } from '../accounts/throttle.ts';
import { findProfileByUser } from '../../profiles/profile.repo.ts';
import {
  bumpRingsVersion,
  deleteCustomRing,
  findCustomRing,
  findCustomRingByName,
  insertCustomRing,
  listCustomRings,
  lockRingSettings,
  readPlacements,
  readRingsVersion,
  readUserRings,
  serviceRoles,
  setFieldRings,
  updateCustomRing,
  type RingRow,
} from './rings.repo.ts';
import { grantedScopes } from '../../oidc/grants.repo.ts';

interface AssignedData {
  fields?: string[];
  roles?: string[];
  services?: string[];
}

export interface RingInput {
  ring_name?: string;
  description?: string;
  assigned_data: AssignedData;
}

export interface RingView {
  ring_id: string;
  name: string;
  kind: 'default' | 'custom';
  description: string | null;
  fields: string[];
  admits: { roles: string[]; services: string[] };
  created_at?: string;
  updated_at?: string;
}

export interface CappedView {
  field: string;
  reader: string;
  reason: string;
}

const policiesOf = (deps: AppDeps): Policies => deps.policy.policies;

function invalid(details: ErrorDetail[], summary?: string): InvalidRequest {
  return InvalidRequest.validation(details, summary);
}

/** Uploads of a ring policy per account, valid or not, in the throttle's window: far more than editing needs. */
export const RING_POLICY_UPLOADS: Limit = { name: 'rings-import', max: 30, message: 'too many ring policy uploads' };

/**
 * Takes one upload of the account's allowance, before the file is read: checking a file is the work a flood of
 * uploads would multiply. Only the endpoint counts; other callers of importPolicy (tests, tools) do not.
 */
export async function reserveUpload(deps: AppDeps, userId: string): Promise<void> {
  await reserveUnderLimit(deps.db, RING_POLICY_UPLOADS, userId);
}

/**
 * 400 for a refused ring policy: each problem (already capped at MAX_REPORTED_PROBLEMS) in `details`, and the first
 * in the message, so the answer stays small however many problems the file has.
 */
function invalidPolicy(problems: readonly PolicyProblem[]): InvalidRequest {
  const details = problems.map((p) => ({ path: p.line ? `line ${p.line}` : 'body', message: p.message }));
  const more = details.length > 1 ? ` (and ${details.length - 1} more in details)` : '';
  return invalid(details, `the ring policy is invalid: ${details[0].path}: ${details[0].message}${more}`);
}

function isDefaultRing(policies: Policies, name: string): boolean {
  return policies.ringRank.has(name.toLowerCase());
}

async function profileIdOf(_deps: AppDeps, q: Knex | Knex.Transaction, userId: string): Promise<string> {
  const profile = await findProfileByUser(q, userId);
  if (!profile) throw new UserNotFound('user not found');
  return profile.id;
}

/**
 * Every ring of the person with the fields in it and who it admits: a default ring the roles the policy engine
 * admits through their ceiling and rules (break-the-glass admission is the engine's to explain, not listed here).
 */
function ringViews(deps: AppDeps, placements: ReadonlyMap<string, string>, custom: readonly RingRow[]): RingView[] {
  const { engine } = deps.policy;
  const policies = policiesOf(deps);
  const where = engine.effectiveRings([...placements].map(([field, ring]) => ({ field, ring })));
  const admitted = (ring: string) =>
    engine
      .ringAdmission(ring)
      .filter((a) => a.admitted === 'yes')
      .map((a) => a.role);
  const fieldsIn = (ring: string) => [...where].filter(([, r]) => r === ring).map(([f]) => f);
  const views: RingView[] = policies.rings.map((r) => ({
    ring_id: r.name,
    name: r.name,
    kind: 'default',
    description: r.description,
    fields: fieldsIn(r.name),
    admits: { roles: admitted(r.name), services: [] },
  }));
  for (const row of custom) {
    views.push({
      ring_id: row.id,
      name: row.name,
      kind: 'custom',
      description: row.description,
      fields: fieldsIn(`${CUSTOM_PREFIX}${row.id}`),
      admits: { roles: [...row.roles], services: [...row.services] },
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
    });
  }
  return views;
}

export async function listRings(deps: AppDeps, userId: string) {
  const profileId = await profileIdOf(deps, deps.db, userId);
  const [placements, custom, version] = await Promise.all([
    readPlacements(deps.db, profileId),
    listCustomRings(deps.db, userId),
    readRingsVersion(deps.db, userId),
  ]);
  return { policy_revision: deps.policy.engine.revision, rings_version: version, rings: ringViews(deps, placements, custom) };
}

export async function getRing(deps: AppDeps, userId: string, ringId: string): Promise<{ ring: RingView }> {
  const { rings } = await listRings(deps, userId);
  const ring = rings.find((r) => r.ring_id === ringId || (r.kind === 'default' && r.ring_id === ringId.toLowerCase()));
  if (!ring) throw new RingNotFound(`you have no ring ${ringId}: GET /api/v1/profile/privilege-rings lists them`);
  return { ring };
}

/** Checks fields, roles and services of an assignment; services must be registered. */
async function checkAssignment(deps: AppDeps, data: AssignedData, custom: boolean): Promise<Map<string, string>> {
  const policies = policiesOf(deps);
  const details: ErrorDetail[] = [];
  (data.fields ?? []).forEach((field, i) => {
    if (policies.fields.has(field)) return;
    const whole = policies.leafField.get(field);
    details.push({
      path: `assigned_data.fields[${i}]`,
      message: whole
        ? `rings hold whole fields: assign ${whole} instead of ${field}`
        : `${field} is not a profile field: GET /api/v1/profile lists them`,
    });
  });
  if (!custom && ((data.roles?.length ?? 0) > 0 || (data.services?.length ?? 0) > 0)) {
    details.push({
      path: 'assigned_data',
      message: 'a default ring admits readers by their role ceiling: make a custom ring to admit specific roles or services',
    });
  }
  (data.roles ?? []).forEach((role, i) => {
    if (role === 'public')
      details.push({
        path: `assigned_data.roles[${i}]`,
        message: 'a custom ring cannot admit the public: move the fields to the public ring instead',
      });
    else if (!policies.roles.has(role)) {
      details.push({
        path: `assigned_data.roles[${i}]`,
        message: `${role} is not a role (${[...policies.roles.keys()].filter((r) => r !== 'public').join(', ')})`,
      });
    }
  });
  const roles = await serviceRoles(deps.db, data.services ?? []);
  (data.services ?? []).forEach((clientId, i) => {
    if (!roles.has(clientId)) details.push({ path: `assigned_data.services[${i}]`, message: `no service with client_id ${clientId}` });
  });
  if (details.length > 0) throw invalid(details);
  return roles;
}

function cappedView(capped: readonly Capped[], keep: (c: Capped) => boolean): CappedView[] {
  return capped.filter(keep).map(({ field, reader, reason }) => ({ field, reader, reason }));
}

/** Everything the settings ask for that the policy clips, judged after the change, inside its transaction. */
async function cappedAfter(deps: AppDeps, trx: Knex.Transaction, userId: string): Promise<{ rings: UserRings; capped: Capped[] }> {
  const rings = await readUserRings(trx, userId);
  const roles = await serviceRoles(trx, [...new Set(rings.custom.flatMap((r) => r.services))]);
  return { rings, capped: deps.policy.engine.capped(rings, roles) };
}

/** Runs one change of a person's rings: serialized per person, version bumped, audited, cache retired. */
async function changeRings<T extends Record<string, unknown>>(
  deps: AppDeps,
  userId: string,
  clientIp: string,
  action: string,
  fn: (trx: Knex.Transaction, profileId: string) => Promise<{ result: T; audit: Record<string, unknown> }>,
): Promise<T & { rings_version: number }> {
  try {
    const out = await withTransaction(deps.db, async (trx) => {
      await lockRingSettings(trx, userId);
      const profileId = await profileIdOf(deps, trx, userId);
      const { result, audit } = await fn(trx, profileId);
      const version = await bumpRingsVersion(trx, userId);
      await recordAudit(trx, {
        action,
        actor: `user:${userId}`,
        subject: `user:${userId}`,
        clientIp,
        data: { ...audit, rings_version: version, policy_revision: deps.policy.engine.revision },
      });
      return { ...result, rings_version: version };
    });
    return out;
  } catch (err) {
    if (isUniqueViolation(err)) throw new RingExists('you already have a ring with that name: choose another one');
    throw err;
  } finally {
    deps.policy.engine.invalidateUser(userId);
  }
}

/**
 * Seed API 6: a new name makes a custom ring holding `fields` and admitting `roles` and `services`; the name of a
 * default ring moves `fields` into that ring.
 */
export async function createRing(deps: AppDeps, userId: string, input: RingInput, clientIp: string) {
  const policies = policiesOf(deps);
  const name = (input.ring_name ?? '').trim();
  const data = input.assigned_data;
  const fields = [...new Set(data.fields ?? [])];
  if (isDefaultRing(policies, name)) {
    const ring = name.toLowerCase();
    await checkAssignment(deps, data, false);
    if (fields.length === 0) throw invalid([{ path: 'assigned_data.fields', message: `name the fields to move into ${ring}` }]);
    const out = await changeRings(deps, userId, clientIp, 'rings.assign', async (trx, profileId) => {
      await setFieldRings(
        trx,
        profileId,
        fields.map((field) => ({ field, ring })),
      );
      const { capped } = await cappedAfter(deps, trx, userId);
      return { result: { ring_id: ring, capped: cappedView(capped, (c) => c.ring === ring && fields.includes(c.field)) }, audit: { ring, fields } };
    });
    return { created: false, ...out };
  }
  await checkAssignment(deps, data, true);
  if (await findCustomRingByName(deps.db, userId, name)) {
    throw new RingExists(`you already have a ring named ${name}: change it with PUT /api/v1/profile/privilege-rings/{ring_id}`);
  }
  const out = await changeRings(deps, userId, clientIp, 'rings.create', async (trx, profileId) => {
    const id = await insertCustomRing(trx, userId, {
      name,
      description: input.description ?? null,
      roles: data.roles ?? [],
      services: data.services ?? [],
    });
    await setFieldRings(
      trx,
      profileId,
      fields.map((field) => ({ field, ring: `${CUSTOM_PREFIX}${id}` })),
    );
    const { capped } = await cappedAfter(deps, trx, userId);
    return {
      result: { ring_id: id, capped: cappedView(capped, (c) => c.ring === name) },
      audit: { ring_id: id, name, fields, roles: data.roles ?? [], services: data.services ?? [] },
    };
  });
  return { created: true, ...out };
}

/**
 * Replaces one ring. A custom ring gets exactly the given fields, roles and services (and a new name if given);
 * fields it no longer lists go back to their default ring. A default ring gets exactly the given fields: those
 * moved into it earlier and not listed now go back to their default ring.
 */
export async function updateRing(deps: AppDeps, userId: string, ringId: string, input: RingInput, clientIp: string) {
  const policies = policiesOf(deps);
  const data = input.assigned_data;
  const fields = [...new Set(data.fields ?? [])];
  if (isDefaultRing(policies, ringId)) {
    const ring = ringId.toLowerCase();
    if (input.ring_name !== undefined && input.ring_name.trim().toLowerCase() !== ring) {
      throw invalid([{ path: 'ring_name', message: 'default rings cannot be renamed' }]);
    }
    await checkAssignment(deps, data, false);
    const staying = [...policies.fields.values()].filter((f) => f.ring === ring && !fields.includes(f.name)).map((f) => f.name);
    return changeRings(deps, userId, clientIp, 'rings.assign', async (trx, profileId) => {
      const placements = await readPlacements(trx, profileId);
      // A field whose default is this ring has nowhere to go back to: it must be moved to another ring by name.
      const stuck = staying.filter((f) => (placements.get(f) ?? ring) === ring);
      if (stuck.length > 0) {
        throw invalid(
          stuck.map((f) => ({
            path: 'assigned_data.fields',
            message: `${f} belongs to ${ring} by default: list it, or move it to another ring first`,
          })),
        );
      }
      const back = [...placements]
        .filter(([f, r]) => r === ring && !fields.includes(f))
        .map(([field]) => ({ field, ring: policies.fields.get(field)?.ring ?? ring }));
      await setFieldRings(trx, profileId, [...fields.map((field) => ({ field, ring })), ...back]);
      const { capped } = await cappedAfter(deps, trx, userId);
      return {
        result: { ring_id: ring, capped: cappedView(capped, (c) => c.ring === ring && fields.includes(c.field)) },
        audit: { ring, fields, returned: back.map((b) => b.field) },
      };
    });
  }
  const existing = await findCustomRing(deps.db, userId, ringId);
  if (!existing) throw new RingNotFound(`you have no ring ${ringId}: GET /api/v1/profile/privilege-rings lists them`);
  await checkAssignment(deps, data, true);
  const name = input.ring_name?.trim() || existing.name;
  if (isDefaultRing(policies, name)) throw invalid([{ path: 'ring_name', message: `${name} is a default ring's name` }]);
  return changeRings(deps, userId, clientIp, 'rings.update', async (trx, profileId) => {
    const tag = `${CUSTOM_PREFIX}${existing.id}`;
    const placements = await readPlacements(trx, profileId);
    const back = [...placements]
      .filter(([f, r]) => r === tag && !fields.includes(f))
      .map(([field]) => ({ field, ring: policies.fields.get(field)?.ring ?? 'restricted' }));
    await updateCustomRing(trx, existing.id, {
      name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      roles: data.roles ?? [],
      services: data.services ?? [],
    });
    await setFieldRings(trx, profileId, [...fields.map((field) => ({ field, ring: tag })), ...back]);
    const { capped } = await cappedAfter(deps, trx, userId);
    return {
      result: { ring_id: existing.id, capped: cappedView(capped, (c) => c.ring === name) },
      audit: { ring_id: existing.id, name, fields, roles: data.roles ?? [], services: data.services ?? [], returned: back.map((b) => b.field) },
    };
  });
}

/** Deletes a custom ring; its fields go back to their default rings. Default rings cannot be deleted. */
export async function deleteRing(deps: AppDeps, userId: string, ringId: string, clientIp: string) {
  const policies = policiesOf(deps);
  if (isDefaultRing(policies, ringId)) {
    throw new DefaultRing(`${ringId.toLowerCase()} is a default ring and cannot be deleted: move its fields to other rings instead`);
  }
  const existing = await findCustomRing(deps.db, userId, ringId);
  if (!existing) throw new RingNotFound(`you have no ring ${ringId}: GET /api/v1/profile/privilege-rings lists them`);
  return changeRings(deps, userId, clientIp, 'rings.delete', async (trx, profileId) => {
    const tag = `${CUSTOM_PREFIX}${existing.id}`;
    const back = [...(await readPlacements(trx, profileId))]
      .filter(([, r]) => r === tag)
      .map(([field]) => ({ field, ring: policies.fields.get(field)?.ring ?? 'restricted' }));
    await setFieldRings(trx, profileId, back);
    await deleteCustomRing(trx, existing.id);
    return {
      result: { ring_id: existing.id, returned_fields: back.map((b) => b.field) },
      audit: { ring_id: existing.id, name: existing.name, returned: back.map((b) => b.field) },
    };
  });
}

/** The person's whole ring configuration as a ring policy file (YAML). */
export async function exportPolicy(deps: AppDeps, userId: string): Promise<string> {
  const rings = await readUserRings(deps.db, userId);
  return userRingsToYaml(policiesOf(deps), rings, `Ring policy of user ${userId}, rings version ${rings.version}.`);
}

/**
 * Replaces the whole configuration with an uploaded ring policy file, checked by the same schema as the CLI's.
 * Custom rings are matched by name (ids kept); fields not placed anywhere go back to their default rings.
 */
export async function importPolicy(deps: AppDeps, userId: string, text: string, clientIp: string) {
  const policies = policiesOf(deps);
  let parsed: ReturnType<typeof parseUserRingsFile>;
  try {
    // Nesting too deep to parse and alias bombs come back as problems like any other (parseYaml bounds both).
    parsed = parseUserRingsFile(policies, text, 'policy');
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    throw invalidPolicy(err.problems);
  }
  const { document, yaml } = parsed;
  const custom = document.custom_rings ?? [];
  const known = await serviceRoles(deps.db, [...new Set(custom.flatMap((r) => r.services ?? []))]);
  const unknown = new ProblemList();
  for (const [i, r] of custom.entries()) {
    for (const [j, s] of (r.services ?? []).entries()) {
      if (!known.has(s)) unknown.add(() => yaml.problem(['custom_rings', i, 'services', j], `no service with client_id ${s}`));
    }
  }
  if (unknown.count > 0) throw invalidPolicy(unknown.list());

  return changeRings(deps, userId, clientIp, 'rings.import', async (trx, profileId) => {
    const existing = await listCustomRings(trx, userId);
    const byName = new Map(existing.map((r) => [r.name_lower, r]));
    const wanted = new Map<string, string>();
    for (const def of policies.fields.values()) wanted.set(def.name, document.placements?.[def.name] ?? def.ring);
    const keep = new Set<string>();
    // Rings are renamed apart first, so a swap of two names in one upload does not trip the unique index.
    for (const r of existing)
      await trx('rings')
        .where({ id: r.id })
        .update({ name_lower: `~${r.id}` });
    for (const r of custom) {
      const match = byName.get(r.name.toLowerCase());
      const write = { name: r.name, description: r.description ?? null, roles: r.roles ?? [], services: r.services ?? [] };
      let id: string;
      if (match && !keep.has(match.id)) {
        id = match.id;
        const same =
          match.name === write.name &&
          (match.description ?? null) === write.description &&
          JSON.stringify(match.roles) === JSON.stringify(write.roles) &&
          JSON.stringify(match.services) === JSON.stringify(write.services);
        // An unchanged ring keeps its updated_at: only its parked name comes back.
        if (same) await trx('rings').where({ id }).update({ name_lower: match.name_lower });
        else await updateCustomRing(trx, id, write);
      } else {
        id = await insertCustomRing(trx, userId, write);
      }
      keep.add(id);
      for (const field of r.fields) wanted.set(field, `${CUSTOM_PREFIX}${id}`);
    }
    const current = deps.policy.engine.effectiveRings([...(await readPlacements(trx, profileId))].map(([field, ring]) => ({ field, ring })));
    const changes = [...wanted].filter(([field, ring]) => current.get(field) !== ring).map(([field, ring]) => ({ field, ring }));
    await setFieldRings(trx, profileId, changes);
    const removed = existing.filter((r) => !keep.has(r.id));
    for (const r of removed) await deleteCustomRing(trx, r.id);
    const { capped } = await cappedAfter(deps, trx, userId);
    return {
      result: { policy_revision: deps.policy.engine.revision, capped: cappedView(capped, () => true) },
      audit: { moved: changes.map((c) => c.field), custom_rings: custom.map((r) => r.name), deleted_rings: removed.map((r) => r.id) },
    };
  });
}

/** For the public, every role and every service the person granted: what it can see now and why not the rest. */
export async function visibility(deps: AppDeps, userId: string) {
  const rings = await readUserRings(deps.db, userId);
  const grants = await grantedScopes(deps.db, userId);
  const roles = await serviceRoles(deps.db, [...grants.keys()]);
  const services = [...grants].map(([clientId, scopes]) => ({ clientId, role: roles.get(clientId) ?? '', grant: { scopes } }));
  const view = deps.policy.engine.visibility(rings, services);
  return { policy_revision: view.policy_revision, rings_version: Number(rings.version), readers: view.readers };
}
