import type { Handler } from '../../deps.ts';
import { addResponder, assertOrganisation, serializeResponder } from './responders.ts';

/** Adds an individual responder to the calling organisation's roster. */
export const createResponder: Handler = async ({ caller, body, clientIp }, deps) => {
  const org = assertOrganisation(caller);
  const row = await addResponder(
    deps,
    org,
    { responder_id: String(body.responder_id), name: String(body.name), licence: String(body.licence), active: body.active as boolean | undefined },
    clientIp,
  );
  return { responder: serializeResponder(row) };
};
