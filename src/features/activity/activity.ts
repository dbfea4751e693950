/**
 * The person's own audit log: every event about their data (`subject` = them) — logins, changes, releases to
 * services, grants revoked — newest first, paginated like the other lists, filterable by kind (an action's first
 * word: `session`, `profile`, `data`, `grant`, …). Only the owner reads it; facts in events are never secrets.
 */
import type { AppDeps } from '../../deps.ts';
import type { AuditRow } from '../../audit/audit.ts';
import { decodeCursor, encodeCursor, isBigintText, type PageRequest } from '../profile/pagination.ts';
import { listSubjectEvents } from './activity.repo.ts';

function view(row: AuditRow) {
  return {
    event_id: row.id,
    at: new Date(row.at).toISOString(),
    action: row.action,
    kind: row.action.split('.')[0],
    actor: row.actor,
    client_ip: row.client_ip,
    data: row.data ?? {},
  };
}

export async function listActivity(deps: AppDeps, userId: string, page: PageRequest, kind: string | undefined) {
  const beforeSeq = page.cursor
    ? decodeCursor<{ s: string }>(page.cursor, (v): v is Record<string, unknown> & { s: string } => isBigintText(v.s)).s
    : undefined;
  const rows = await listSubjectEvents(deps.db, `user:${userId}`, { kind, beforeSeq, limit: page.limit + 1 });
  const shown = rows.slice(0, page.limit);
  return {
    events: shown.map(view),
    next_cursor: rows.length > page.limit ? encodeCursor({ s: String(shown[shown.length - 1].seq) }) : null,
  };
}
