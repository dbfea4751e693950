/** The roster of each responder organisation (migrations/022_emergency.ts `emergency_responders`). */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/db.ts';

export interface ResponderRow {
  id: string;
  client_id: string;
  responder_id: string;
  name: string;
  licence: string;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export type ResponderPatch = Partial<Pick<ResponderRow, 'name' | 'licence' | 'active'>>;

export async function findResponder(q: Queryable, clientId: string, responderId: string): Promise<ResponderRow | undefined> {
  return (await q('emergency_responders').where({ client_id: clientId, responder_id: responderId }).first()) as ResponderRow | undefined;
}

/** A page of the organisation's roster by responder_id, after `after`. */
export async function listResponders(q: Queryable, clientId: string, limit: number, after?: string): Promise<ResponderRow[]> {
  const builder = q('emergency_responders').where({ client_id: clientId });
  if (after !== undefined) builder.where('responder_id', '>', after);
  return (await builder.orderBy('responder_id').limit(limit)) as ResponderRow[];
}

/** Adds a member; undefined when the organisation already has one with this responder_id. */
export async function insertResponder(
  q: Queryable,
  row: Pick<ResponderRow, 'client_id' | 'responder_id' | 'name' | 'licence' | 'active'>,
): Promise<ResponderRow | undefined> {
  const [inserted] = (await q('emergency_responders')
    .insert({ id: randomUUID(), ...row })
    .onConflict(['client_id', 'responder_id'])
    .ignore()
    .returning('*')) as ResponderRow[];
  return inserted;
}

export async function updateResponder(q: Queryable, clientId: string, responderId: string, patch: ResponderPatch): Promise<ResponderRow | undefined> {
  const [row] = (await q('emergency_responders')
    .where({ client_id: clientId, responder_id: responderId })
    .update({ ...patch, updated_at: q.fn.now() })
    .returning('*')) as ResponderRow[];
  return row;
}

export async function deleteResponder(q: Queryable, clientId: string, responderId: string): Promise<boolean> {
  return (await q('emergency_responders').where({ client_id: clientId, responder_id: responderId }).delete()) > 0;
}
