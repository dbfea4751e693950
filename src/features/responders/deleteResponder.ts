import type { Handler } from '../../deps.ts';
import { assertOrganisation, removeResponder } from './responders.ts';

/** Removes a member from the calling organisation's roster. */
export const deleteResponder: Handler = async ({ caller, params, clientIp }, deps) => {
  const org = assertOrganisation(caller);
  await removeResponder(deps, org, params.responder_id, clientIp);
  return { responder_id: params.responder_id };
};
