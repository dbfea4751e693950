/** The audit events of one person's data, newest first. */
import type { Queryable } from '../../store/db.ts';
import type { AuditRow } from '../../audit/audit.ts';

export async function listSubjectEvents(
  q: Queryable,
  subject: string,
  options: { kind?: string | undefined; beforeSeq?: string | undefined; limit: number },
): Promise<AuditRow[]> {
  const query = q('audit_events')
    .where({ subject })
    .orderBy('seq', 'desc')
    .limit(options.limit)
    .select('seq', 'id', 'at', 'action', 'actor', 'client_ip', 'data');
  // A kind is the action's first word; `_` and `%` cannot reach LIKE (the spec allows only [a-z]).
  if (options.kind) query.andWhere('action', 'like', `${options.kind}.%`);
  if (options.beforeSeq) query.andWhere('seq', '<', options.beforeSeq);
  return (await query) as AuditRow[];
}
