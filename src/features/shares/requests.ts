/**
 * The request flow (seed API 3, steps 1–2): a service, calling as itself, asks a person for chosen facts and a
 * purpose; the person is told by e-mail, sees the request in their list and approves or declines it; on approval a
 * share is issued (the same release as share-create) and the service collects its verification token. Requests
 * expire, and one service may ask one person only so often.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../deps.ts';
import { recordAudit } from '../../audit/audit.ts';
import { open, seal } from '../../crypto/envelope.ts';
import { NO_USER_RINGS } from '../../policy/engine.ts';
import { FieldNotShareable, RequestClosed, RequestNotFound, SubjectNotFound, TooManyRequests } from '../../errors.ts';
import { getService } from '../../oidc/services.ts';
import { readUserFields } from '../../profiles/profile.repo.ts';
import type { Queryable } from '../../store/db.ts';
import { withTransaction } from '../../store/db.ts';
import { pageFrom, type Page } from './pages.ts';
import { issueShare, planOf, scopesCovering } from './shares.ts';
import {
  decideRequest,
  findRequestOfService,
  findShareOfRequest,
  insertRequest,
  listRequestsOfUser,
  lockRequestOfUser,
  reopenRequest,
  requestTimes,
  storeSealedToken,
  type RequestRow,
} from './shares.repo.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOUR_MS = 3600 * 1000;

/**
 * The account a service's `subject` names: the person's public handle, or the `sub` the service was given (today
 * the account id). The one place that maps a service's identifier of a person to the account: a pairwise `sub`
 * changes only this.
 */
async function accountOfSubject(q: Queryable, _clientId: string, subject: string): Promise<string | undefined> {
  const handle = subject.startsWith('@') ? subject.slice(1) : subject;
  const byHandle = (await q('users').where({ handle_lower: handle.toLowerCase() }).first('id')) as { id: string } | undefined;
  if (byHandle) return byHandle.id;
  if (!UUID.test(subject)) return undefined;
  return ((await q('users').where({ id: subject.toLowerCase() }).first('id')) as { id: string } | undefined)?.id;
}

export interface RequestView {
  request_id: string;
  service_id: string;
  service_name: string;
  role: string;
  fields: string[];
  purpose: string;
  state: 'pending' | 'approved' | 'declined' | 'expired';
  created_at: string;
  expires_at: string;
}

const stateOf = (r: RequestRow): RequestView['state'] =>
  r.state === 'pending' && new Date(r.expires_at).getTime() <= Date.now() ? 'expired' : r.state;

/** Creates a request of a service for a person's facts, and tells the person by e-mail. */
export async function createRequest(
  deps: AppDeps,
  clientId: string,
  input: { subject: string; fields: readonly string[]; purpose: string },
  clientIp: string,
): Promise<{ request_id: string; state: 'pending'; expires_at: string }> {
  const service = await getService(deps.db, clientId);
  const userId = await accountOfSubject(deps.db, clientId, input.subject);
  if (!userId)
    throw new SubjectNotFound('no person has this handle or subject identifier', { details: [{ path: 'subject', message: 'names no one' }] });
  const fields = [...new Set(input.fields)];
  const release = [...new Set(fields.map((f) => planOf(deps, f).release))];
  // What the role may ever receive, under the default rings: the person's own settings are theirs, never shown here.
  const scopes = [...new Set(release.flatMap((f) => scopesCovering(deps, f)))];
  const allowed = new Set(
    deps.policy.engine.decide({ kind: 'service', clientId, role: service.role }, NO_USER_RINGS, { scopes }).fields.map((f) => f.split('.')[0]),
  );
  const refused = release.filter((f) => !allowed.has(f));
  if (refused.length > 0) {
    throw new FieldNotShareable(`the policy does not let ${service.role} services receive ${refused.join(', ')}`, {
      details: refused.map((f) => ({ path: 'fields', message: `${f} is not released to role ${service.role}` })),
    });
  }
  const purpose = input.purpose.replace(/\s+/g, ' ').trim();
  return withTransaction(deps.db, async (trx) => {
    // One request of this service for this person at a time, so the count below is exact.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`share-request:${clientId}:${userId}`]);
    const now = Date.now();
    const times = await requestTimes(trx, clientId, userId, new Date(now - HOUR_MS));
    if (times.length >= deps.config.shareRequestsPerHour) {
      const retry = (new Date(times[times.length - deps.config.shareRequestsPerHour]).getTime() + HOUR_MS - now) / 1000;
      throw new TooManyRequests(`this service has asked this person ${times.length} times in the last hour; ask again later`, retry);
    }
    const row = await insertRequest(trx, {
      id: randomUUID(),
      userId,
      clientId,
      fields,
      purpose,
      expiresAt: new Date(now + deps.config.shareRequestTtlSeconds * 1000),
    });
    const { email } = await readUserFields(trx, deps.keyring, userId, ['email']);
    if (typeof email === 'string') {
      await deps.outbox.enqueueMail(
        trx,
        {
          to: email,
          subject: `${service.name} asks you to share ${fields.join(', ')}`,
          text:
            `${service.name} (a ${service.role} service) asks you to share: ${fields.join(', ')}.\n` +
            `Their stated purpose: ${purpose}\n\n` +
            `Nothing is shared unless you approve. Approve or decline it in Ringfence (GET /api/v1/profile/requests) ` +
            `before ${row.expires_at.toISOString()}; after that the request expires.\n`,
        },
        `share-request:${row.id}`,
      );
    }
    await recordAudit(trx, {
      action: 'share.requested',
      actor: `service:${clientId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { request_id: row.id, client_id: clientId, fields },
    });
    return { request_id: row.id, state: 'pending' as const, expires_at: row.expires_at.toISOString() };
  });
}

/** A page of the person's requests, newest first. */
export async function listRequests(deps: AppDeps, userId: string, page: Page): Promise<{ requests: RequestView[]; next_cursor: string | null }> {
  const { rows, next_cursor } = pageFrom(await listRequestsOfUser(deps.db, userId, page.limit + 1, page.after), page.limit);
  const requests = rows.map((r) => ({
    request_id: r.id,
    service_id: r.client_id,
    service_name: r.service_name,
    role: r.role,
    fields: r.fields,
    purpose: r.purpose,
    state: stateOf(r),
    created_at: new Date(r.created_at).toISOString(),
    expires_at: new Date(r.expires_at).toISOString(),
  }));
  return { requests, next_cursor };
}

const tokenAad = (shareId: string) => `shares:${shareId}:token`;

/** Marks a pending, unexpired request of the person decided; refuses any other. */
async function decide(deps: AppDeps, userId: string, requestId: string, state: 'approved' | 'declined', clientIp: string): Promise<RequestRow> {
  return withTransaction(deps.db, async (trx) => {
    const row = await lockRequestOfUser(trx, userId, requestId);
    if (!row) throw new RequestNotFound('you have no request with this id');
    const current = stateOf(row);
    if (current !== 'pending') throw new RequestClosed(`this request is ${current}: only a pending request can be approved or declined`);
    await decideRequest(trx, requestId, state);
    await recordAudit(trx, {
      action: `share.request_${state}`,
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { request_id: requestId, client_id: row.client_id },
    });
    return row;
  });
}

/** Approves a request: the share is issued (released and on record) and kept, sealed, for the service to collect. */
export async function approveRequest(
  deps: AppDeps,
  userId: string,
  requestId: string,
  clientIp: string,
): Promise<{ request_id: string; state: 'approved'; share_id: string; expires_at: string }> {
  const row = await decide(deps, userId, requestId, 'approved', clientIp);
  let issued: Awaited<ReturnType<typeof issueShare>>;
  try {
    issued = await issueShare(deps, { userId, clientId: row.client_id, fields: row.fields, clientIp, requestId });
  } catch (err) {
    // Nothing was issued (no verified birth date, a field out of reach): the request stays the person's to decide.
    await reopenRequest(deps.db, requestId);
    throw err;
  }
  await storeSealedToken(deps.db, issued.share_id, seal(deps.keyring.derive('share-tokens'), issued.verification_token, tokenAad(issued.share_id)));
  return { request_id: requestId, state: 'approved', share_id: issued.share_id, expires_at: issued.expires_at };
}

/** Declines a request: nothing is shared. */
export async function declineRequest(
  deps: AppDeps,
  userId: string,
  requestId: string,
  clientIp: string,
): Promise<{ request_id: string; state: 'declined' }> {
  await decide(deps, userId, requestId, 'declined', clientIp);
  return { request_id: requestId, state: 'declined' };
}

/** A service's own request: its state and, once approved and while the share lives, its verification token. */
export async function collectRequest(deps: AppDeps, clientId: string, requestId: string): Promise<Record<string, unknown>> {
  // Another service's request is as absent as one that never was.
  const row = await findRequestOfService(deps.db, clientId, requestId);
  if (!row) throw new RequestNotFound('this service has no request with this id');
  const base = { request_id: row.id, state: stateOf(row), fields: row.fields, expires_at: new Date(row.expires_at).toISOString() };
  if (row.state !== 'approved') return base;
  const share = await findShareOfRequest(deps.db, row.id);
  if (!share) return base;
  const live = share.revoked_at === null && new Date(share.expires_at).getTime() > Date.now();
  return {
    ...base,
    share_id: share.id,
    token_expires_at: new Date(share.expires_at).toISOString(),
    ...(share.revoked_at ? { revoked: true } : {}),
    ...(live && share.sealed_token
      ? { verification_token: open(deps.keyring.derive('share-tokens'), Buffer.from(share.sealed_token), tokenAad(share.id)).toString('utf8') }
      : {}),
  };
}
