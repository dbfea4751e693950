import type { Handler } from '../../deps.ts';
import { getService } from '../../oidc/services.ts';

/**
 * A service reads its own registration with a token it holds as itself (client credentials): the check a
 * responder organisation's app, or a service about to ask a person for data, makes of its credentials.
 */
export const getDataService: Handler = async ({ caller }, deps) => {
  if (caller.kind !== 'service' || caller.accountId) throw new Error('getDataService needs a client credentials caller');
  const service = await getService(deps.db, caller.clientId);
  return { client_id: service.client_id, name: service.name, role: service.role, scope: service.scope, token_scopes: caller.scopes };
};
