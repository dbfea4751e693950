import { Reply, type Handler } from '../../deps.ts';
import { showInteraction as show } from '../../oidc/interactions.ts';

/** The login or consent page of an authorization request in progress. */
export const showInteraction: Handler = async ({ ctx }, deps) => new Reply(await show(deps, ctx), { type: 'text/html; charset=utf-8' });
