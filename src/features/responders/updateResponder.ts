import type { Handler } from '../../deps.ts';
import type { ResponderPatch } from './responders.repo.ts';
import { assertOrganisation, changeResponder, serializeResponder } from './responders.ts';

/** Changes a member's name or licence, or (de)activates them: a deactivated responder's grants are refused. */
export const updateResponder: Handler = async ({ caller, params, body, clientIp }, deps) => {
  const org = assertOrganisation(caller);
  const patch: ResponderPatch = {};
  if (typeof body.name === 'string') patch.name = body.name;
  if (typeof body.licence === 'string') patch.licence = body.licence;
  if (typeof body.active === 'boolean') patch.active = body.active;
  const row = await changeResponder(deps, org, params.responder_id, patch, clientIp);
  return { responder: serializeResponder(row) };
};
