/**
 * Who can see what (seed API 8): the services a person granted, what each can see now, and revocation — removal
 * of the grant and of every token issued under it, effective on the very next request.
 */
import type { AppDeps, Caller } from '../../http/types.ts';
import { NotFound, Unauthenticated } from '../../errors.ts';
import { recordAudit, type AuditInput } from '../../audit/audit.ts';
import { AuditQueue } from '../../audit/queue.ts';
import type { Db, RunStatement } from '../../store/db.ts';
import { withTransaction } from '../../store/db.ts';
import { ISSUED_UNDER_GRANT } from '../../oidc/adapter.ts';
import { releaseFor } from '../../oidc/disclosure.ts';
import { profileReadWithToken } from '../../oidc/resource.ts';
import { dataResource } from '../../oidc/provider.ts';
import { findService } from '../../oidc/services.ts';

type ServiceCaller = Extract<Caller, { kind: 'service' }>;

/** services.last_used_at is bookkeeping for operators: a service read from again within this is not re-marked. */
const TOUCH_EVERY_MS = 1000;
const touchedAt = new Map<string, number>();

/** The services of a batch of disclosures not marked as used in the last second by this process (now marked). */
function servicesToTouch(inputs: readonly AuditInput[]): string[] {
  const now = Date.now();
  const clients = [...new Set(inputs.map((i) => i.data?.client_id).filter((c): c is string => typeof c === 'string'))].filter(
    (c) => now - (touchedAt.get(c) ?? 0) >= TOUCH_EVERY_MS,
  );
  for (const c of clients) touchedAt.set(c, now);
  // Bounded: a process that has served more services than this forgets the oldest marks, and re-marks sooner.
  while (touchedAt.size > 10_000) touchedAt.delete(touchedAt.keys().next().value!);
  return clients;
}

/**
 * A disclosure is recorded only while its grant still exists, and one statement, the batch's own transaction,
 * settles and records it:
 * - it locks the batch's live grants (FOR KEY SHARE, the weakest lock a DELETE waits for, in id order), then appends
 *   the disclosures of the grants it found to the audit chain (rf_audit_append, which takes the chain's lock).
 *   Every deletion of a grant waits for that row lock or is waited for: revocation here (grants locked in id order)
 *   and consent replacement (src/oidc/interactions.ts) delete grants before they take the chain's lock to record
 *   their own event, the order this statement keeps; the provider's own revocations (RFC 7009, refresh token reuse,
 *   logout) delete the row without the chain's lock. So either the deletion committed first, and the read is
 *   refused (the lock finds no row), or it commits only after the batch did: no disclosure is ever recorded after
 *   its grant's revocation, by any path;
 * - it marks the services read from as used (services.last_used_at, each at most once a second per process). The
 *   update, a data-modifying WITH, runs at the end of the statement, after the chain's lock is taken, which every
 *   audit writer waits for, so a service row another transaction holds is skipped (SKIP LOCKED), never waited for.
 * The append runs in the projection of the one row the aggregate over the locked grants gives, so after every grant
 * is locked, and only for the events whose grant it locked.
 */
export async function admitDisclosures(run: RunStatement, inputs: readonly AuditInput[], events: readonly string[]): Promise<(Error | undefined)[]> {
  const grantIds = [...new Set(inputs.map((i) => i.data?.grant_id).filter((g): g is string => typeof g === 'string'))];
  const [held] = await run<{ live: string[] }>(
    'rf_admit_disclosures',
    `with held as materialized (
       select id from oidc_payloads
        where kind = 'Grant' and id = any(?::text[]) and (expires_at is null or expires_at > current_timestamp)
        order by id for key share
     ), touched as (
       update services set last_used_at = current_timestamp
        where client_id in (select client_id from services where client_id = any(?::text[]) for update skip locked)
     ), live as (
       select coalesce(array_agg(id), '{}') as ids from held
     )
     select live.ids as live,
            rf_audit_append(array(select e.canonical from unnest(?::text[], ?::text[]) with ordinality as e(canonical, grant_id, n)
                                   where e.grant_id = any(live.ids) order by e.n)) as appended
       from live`,
    // Each event's grant beside its text, so the statement need not parse the text to find it.
    [grantIds, servicesToTouch(inputs), events, inputs.map((i) => (typeof i.data?.grant_id === 'string' ? i.data.grant_id : null))],
  );
  const live = new Set(held.live);
  return inputs.map((i) =>
    live.has(i.data?.grant_id as string) ? undefined : new Unauthenticated('the grant behind this token has been revoked', { code: 'invalid_token' }),
  );
}

/** One disclosure log per database: reads of many requests are recorded together (src/audit/queue.ts). */
const disclosureLogs = new WeakMap<Db, AuditQueue>();

function disclosureLog(db: Db): AuditQueue {
  let log = disclosureLogs.get(db);
  if (!log) disclosureLogs.set(db, (log = new AuditQueue(db, { admit: admitDisclosures })));
  return log;
}

/**
 * Releases the permitted fields to a service and records the disclosure with the policy revision that allowed it.
 * The caller was resolved in this request (src/oidc/resource.ts: live token, live grant, enabled service and its
 * role, and the person's profile read in the same statement), so the policy engine is asked with that reader
 * directly. The answer waits until the disclosure is committed to the audit chain; concurrent reads share that
 * commit.
 */
export async function releaseToService(deps: AppDeps, caller: ServiceCaller, clientIp: string) {
  const reader = { kind: 'service' as const, clientId: caller.clientId, role: caller.role };
  const released = await releaseFor(deps, reader, caller.accountId!, caller.scopes, profileReadWithToken(caller));
  await disclosureLog(deps.db).record({
    action: 'data.released',
    actor: `service:${caller.clientId}`,
    subject: `user:${caller.accountId}`,
    clientIp,
    data: {
      client_id: caller.clientId,
      grant_id: caller.grantId,
      fields: Object.keys(released.fields).sort(),
      policy_revision: released.policyRevision,
    },
  });
  return released;
}

interface GrantRow {
  id: string;
  client_id: string;
  payload: unknown;
}

interface GrantPayload {
  iat?: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

function parse(payload: unknown): GrantPayload {
  return (typeof payload === 'string' ? JSON.parse(payload) : payload) as GrantPayload;
}

async function liveGrants(deps: AppDeps, userId: string, clientId?: string): Promise<GrantRow[]> {
  const q = deps.db('oidc_payloads')
    .where({ kind: 'Grant', account_id: userId })
    .andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', deps.db.fn.now()))
    .select('id', 'client_id', 'payload')
    .orderBy('client_id');
  if (clientId) q.andWhere({ client_id: clientId });
  return q;
}

export interface AccessEntry {
  service_id: string;
  name: string;
  role: string;
  scopes: string[];
  fields: string[];
  granted_at: string;
  last_used_at: string | null;
}

/** Every service with a live grant, what it can see now (the engine's answer), when granted and last used. */
export async function listAccess(deps: AppDeps, userId: string): Promise<AccessEntry[]> {
  const grants = await liveGrants(deps, userId);
  const byClient = new Map<string, { scopes: Set<string>; grantedAt: number }>();
  for (const g of grants) {
    const payload = parse(g.payload);
    const entry = byClient.get(g.client_id) ?? { scopes: new Set<string>(), grantedAt: payload.iat ?? 0 };
    for (const s of (payload.openid?.scope ?? '').split(' ').filter(Boolean)) entry.scopes.add(s);
    for (const s of (payload.resources?.[dataResource(deps.config)] ?? '').split(' ').filter(Boolean)) entry.scopes.add(s);
    entry.grantedAt = Math.max(entry.grantedAt, payload.iat ?? 0);
    byClient.set(g.client_id, entry);
  }
  const entries: AccessEntry[] = [];
  for (const [clientId, { scopes, grantedAt }] of byClient) {
    const service = await findService(deps.db, clientId);
    if (!service) continue;
    const scopeList = [...scopes].sort();
    const previews = await deps.oidc.disclosure.preview(userId, clientId, scopeList);
    const fields = [...new Set(previews.flatMap((p) => p.fields.map((f) => f.field)))].sort();
    const lastUse = (await deps.db('audit_events')
      .where({ action: 'data.released', subject: `user:${userId}` })
      .andWhereRaw(`data->>'client_id' = ?`, [clientId])
      .max({ at: 'at' })
      .first()) as { at: Date | null } | undefined;
    entries.push({
      service_id: clientId,
      name: service.name,
      role: service.role,
      scopes: scopeList,
      fields,
      granted_at: new Date(grantedAt * 1000).toISOString(),
      last_used_at: lastUse?.at ? new Date(lastUse.at).toISOString() : null,
    });
  }
  return entries;
}

export interface RevocationResult {
  service_id: string;
  revoked: { grants: number; access_tokens: number; refresh_tokens: number; authorization_codes: number };
  /** `backchannel_logout`: a logout token is queued for the service (it registered a back-channel logout URI). */
  notified: { backchannel_logout: boolean };
}

/**
 * Removes every grant the person gave this service and every artifact issued under them, in one transaction, which
 * also queues the service's back-channel logout, where it registered one: the outbox delivers it after the answer,
 * retrying while the service is down, so a slow or hanging service never holds up the revocation.
 */
export async function revokeAccess(deps: AppDeps, userId: string, serviceId: string, clientIp: string): Promise<RevocationResult> {
  return withTransaction(deps.db, async (trx) => {
    // In id order, as disclosures lock them (admitDisclosures): the two never wait on each other in a cycle.
    const grants = (await trx('oidc_payloads')
      .where({ kind: 'Grant', account_id: userId, client_id: serviceId })
      .orderBy('id')
      .forUpdate()
      .pluck('id')) as string[];
    if (grants.length === 0) {
      throw new NotFound(`you have not granted ${serviceId} access, or it was already revoked`, { code: 'grant_not_found' });
    }
    // What was issued under the grants, not every row naming one: an interaction in flight names the grant it
    // would extend, and must survive so the person can still answer it (src/oidc/adapter.ts, ISSUED_UNDER_GRANT).
    const rows = (await trx('oidc_payloads')
      .where((w) => w.whereIn('grant_id', grants).whereIn('kind', ISSUED_UNDER_GRANT))
      .orWhere((w) => w.where({ kind: 'Grant' }).whereIn('id', grants))
      .select('kind')
      .count({ n: '*' })
      .groupBy('kind')) as { kind: string; n: string | number }[];
    const n = (kind: string) => Number(rows.find((r) => r.kind === kind)?.n ?? 0);
    await trx('oidc_payloads')
      .where((w) => w.whereIn('grant_id', grants).whereIn('kind', ISSUED_UNDER_GRANT))
      .orWhere((w) => w.where({ kind: 'Grant' }).whereIn('id', grants))
      .delete();
    const revoked = {
      grants: n('Grant'),
      access_tokens: n('AccessToken'),
      refresh_tokens: n('RefreshToken'),
      authorization_codes: n('AuthorizationCode'),
    };
    await recordAudit(trx, {
      action: 'grant.revoked',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { client_id: serviceId, grant_ids: grants, ...revoked },
    });
    const service = await findService(trx, serviceId);
    const notify = Boolean(service?.backchannel_logout_uri && !service.disabled_at);
    // No session id: the revocation ends every session of this person at the service, not one.
    if (notify) await deps.outbox.enqueueBackchannelLogout(trx, { clientId: serviceId, sub: userId, sid: '' });
    return { service_id: serviceId, revoked, notified: { backchannel_logout: notify } };
  });
}
