import type { Handler } from '../../deps.ts';
import { ResponderNotFound } from '../../errors.ts';
import { findResponder } from './responders.repo.ts';
import { assertOrganisation, serializeResponder } from './responders.ts';

/** One member of the calling organisation's roster. */
export const getResponder: Handler = async ({ caller, params }, deps) => {
  const org = assertOrganisation(caller);
  const row = await findResponder(deps.db, org.clientId, params.responder_id);
  if (!row) throw new ResponderNotFound(`your roster has no responder ${params.responder_id}`);
  return { responder: serializeResponder(row) };
};
