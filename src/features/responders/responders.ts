/**
 * A responder organisation's roster (seed API 5, step 4): a registered service of role `emergency_responder`,
 * calling as itself (client credentials), lists the individual responders who may break the glass in its name.
 * A grant names one of them; only an active member of the calling organisation's roster is verified.
 */
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import { NotAnEmergencyResponder, ResponderExists, ResponderNotFound } from '../../errors.ts';
import { withTransaction } from '../../store/db.ts';
import { deleteResponder, insertResponder, listResponders, updateResponder, type ResponderPatch, type ResponderRow } from './responders.repo.ts';

export const RESPONDER_ROLE = 'emergency_responder';

/** A responder organisation calling as itself. */
export interface Organisation {
  clientId: string;
}

/** The calling organisation; a service of another role (or a token under a person's grant) is refused. */
export function assertOrganisation(caller: Caller): Organisation {
  if (caller.kind !== 'service' || caller.accountId) throw new Error('the roster needs a client credentials caller');
  if (caller.role !== RESPONDER_ROLE) {
    throw new NotAnEmergencyResponder(
      `only services of role ${RESPONDER_ROLE} keep a roster and break the glass; this service's role is ${caller.role}`,
    );
  }
  return { clientId: caller.clientId };
}

export function serializeResponder(r: ResponderRow) {
  return {
    responder_id: r.responder_id,
    name: r.name,
    licence: r.licence,
    active: r.active,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

export async function rosterPage(deps: AppDeps, org: Organisation, limit: number, after?: string) {
  const rows = await listResponders(deps.db, org.clientId, limit + 1, after);
  const page = rows.slice(0, limit);
  return { responders: page.map(serializeResponder), next: rows.length > limit ? page[page.length - 1].responder_id : undefined };
}

export async function addResponder(
  deps: AppDeps,
  org: Organisation,
  input: { responder_id: string; name: string; licence: string; active?: boolean },
  clientIp: string,
): Promise<ResponderRow> {
  return withTransaction(deps.db, async (trx) => {
    const row = await insertResponder(trx, {
      client_id: org.clientId,
      responder_id: input.responder_id,
      name: input.name,
      licence: input.licence,
      active: input.active ?? true,
    });
    if (!row)
      throw new ResponderExists(
        `your roster already has a responder ${input.responder_id}: change it with PUT /api/v1/responders/${input.responder_id}`,
      );
    await recordAudit(trx, {
      action: 'responder.added',
      actor: `service:${org.clientId}`,
      clientIp,
      data: { client_id: org.clientId, responder_id: row.responder_id, active: row.active },
    });
    return row;
  });
}

export async function changeResponder(
  deps: AppDeps,
  org: Organisation,
  responderId: string,
  patch: ResponderPatch,
  clientIp: string,
): Promise<ResponderRow> {
  return withTransaction(deps.db, async (trx) => {
    const row = await updateResponder(trx, org.clientId, responderId, patch);
    if (!row) throw new ResponderNotFound(`your roster has no responder ${responderId}`);
    await recordAudit(trx, {
      action: 'responder.changed',
      actor: `service:${org.clientId}`,
      clientIp,
      data: { client_id: org.clientId, responder_id: responderId, changed: Object.keys(patch).sort(), active: row.active },
    });
    return row;
  });
}

export async function removeResponder(deps: AppDeps, org: Organisation, responderId: string, clientIp: string): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    if (!(await deleteResponder(trx, org.clientId, responderId))) throw new ResponderNotFound(`your roster has no responder ${responderId}`);
    await recordAudit(trx, {
      action: 'responder.removed',
      actor: `service:${org.clientId}`,
      clientIp,
      data: { client_id: org.clientId, responder_id: responderId },
    });
  });
}
