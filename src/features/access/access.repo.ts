/** What the access overview reads besides grants: when a service last had data released to it. */
import type { Queryable } from '../../store/db.ts';

/** When the person's data was last released to the service (its latest `data.released` event), or null. */
export async function lastReleaseAt(q: Queryable, userId: string, clientId: string): Promise<Date | null> {
  // The latest by seq, the chain's order: the (subject, seq) index walked backwards to the first match.
  const row = (await q('audit_events')
    .where({ action: 'data.released', subject: `user:${userId}` })
    .andWhereRaw(`data->>'client_id' = ?`, [clientId])
    .orderBy('seq', 'desc')
    .first('at')) as { at: Date | null } | undefined;
  return row?.at ?? null;
}
