import { Reply, type Handler } from '../../deps.ts';
import { abortInteraction as abort } from '../../oidc/interactions.ts';

/** The person declines: the service receives access_denied. */
export const abortInteraction: Handler = async ({ ctx }, deps) =>
  new Reply(undefined, { status: 303, headers: { Location: await abort(deps, ctx) } });
