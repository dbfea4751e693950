/** What the access overview reads besides grants: when a service last had data released to it. */
import type { Queryable } from '../../store/db.ts';

/** When the person's data was last released to the service (its latest `data.released` event), or null. */
export async function lastReleaseAt(q: Queryable, userId: string, clientId: string): Promise<Date | null> {
  const row = (await q('audit_events')
    .where({ action: 'data.released', subject: `user:${userId}` })
    .andWhereRaw(`data->>'client_id' = ?`, [clientId])
    .max({ at: 'at' })
    .first()) as { at: Date | null } | undefined;
  return row?.at ?? null;
}
