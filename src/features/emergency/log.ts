/**
 * The person's view of every emergency access (seed app_emergencyaccesslog): who opened it, for which
 * organisation, why, under which condition, what was released, when, and whether it ended; the person can end an
 * open one early and flag any for review. Both are state changes on the audit chain.
 */
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps } from '../../deps.ts';
import { AccessLogNotFound, InvalidCursor } from '../../errors.ts';
import { withTransaction } from '../../store/db.ts';
import { endOpening, findEmergencyByUser, flagOpening, listOpenings, lockOpening, type OpeningRow } from './emergency.repo.ts';
import { openReason } from './setup.ts';

function stateOf(o: OpeningRow): 'open' | 'ended' | 'expired' {
  if (o.ended_at) return 'ended';
  return new Date(o.expires_at).getTime() <= Date.now() ? 'expired' : 'open';
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function decodeCursor(cursor: string): { at: Date; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [at, id] = text.split('|');
  const date = new Date(at ?? '');
  // Only what encodeCursor gives: an ISO instant and a uuid, encoded exactly so.
  if (
    Number.isNaN(date.getTime()) ||
    date.toISOString() !== at ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id ?? '') ||
    Buffer.from(text, 'utf8').toString('base64url') !== cursor
  ) {
    throw new InvalidCursor('cursor is not one this API gave out: start again without it', {
      details: [{ path: 'cursor', message: 'is not a cursor this list issued' }],
    });
  }
  return { at: date, id };
}

/** A page of the person's emergency accesses, newest first. */
export async function accessLog(deps: AppDeps, userId: string, limit: number, cursor?: string) {
  // The cursor is checked first: a bad one is a 400 whether or not there is anything to list.
  const after = cursor ? decodeCursor(cursor) : undefined;
  const row = await findEmergencyByUser(deps.db, userId);
  if (!row) return { entries: [], next_cursor: null };
  const rows = await listOpenings(deps.db, userId, limit + 1, after);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    entries: page.map((o) => ({
      access_log_id: o.id,
      opened_by: o.opened_by,
      organisation: o.organisation,
      client_id: o.client_id,
      responder_id: o.responder_id,
      responder_name: o.responder_name,
      reason: openReason(deps.keyring, row, o.id, o.reason_sealed),
      criterion: o.criterion,
      fields: typeof o.fields === 'string' ? (JSON.parse(o.fields) as string[]) : o.fields,
      opened_at: iso(o.opened_at)!,
      expires_at: iso(o.expires_at)!,
      ended_at: iso(o.ended_at),
      state: stateOf(o),
      flagged_at: iso(o.flagged_at),
      flag_note: o.flag_note,
    })),
    next_cursor: rows.length > limit ? Buffer.from(`${new Date(last.opened_at).toISOString()}|${last.id}`, 'utf8').toString('base64url') : null,
  };
}

const notFound = (id: string) => new AccessLogNotFound(`your emergency access log has no entry ${id}`);

/** Ends an open access now: a release still on its way waits for this, then is refused (EMERGENCY_BASIS). */
export async function endAccess(deps: AppDeps, userId: string, id: string, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    // The row lock first (what the release's admission waits on), then the chain's.
    const opening = await lockOpening(trx, userId, id);
    if (!opening) throw notFound(id);
    const wasOpen = stateOf(opening) === 'open';
    if (wasOpen) {
      await endOpening(trx, id, `user:${userId}`);
      await recordAudit(trx, {
        action: 'emergency.ended',
        actor: `user:${userId}`,
        subject: `user:${userId}`,
        clientIp,
        data: { access_log_id: id },
      });
    }
    return { access_log_id: id, state: wasOpen ? 'ended' : stateOf(opening) };
  });
}

/** Flags an access for review (a note optional); kept on the log entry and the audit chain. */
export async function flagAccess(deps: AppDeps, userId: string, id: string, note: string | undefined, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    const opening = await lockOpening(trx, userId, id);
    if (!opening) throw notFound(id);
    await flagOpening(trx, id, note ?? null);
    await recordAudit(trx, {
      action: 'emergency.flagged',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { access_log_id: id, ...(opening.client_id ? { client_id: opening.client_id, responder_id: opening.responder_id } : {}) },
    });
    return { access_log_id: id, flagged: true };
  });
}
