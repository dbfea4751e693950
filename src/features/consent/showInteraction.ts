import { Reply, type Handler } from '../../http/types.ts';
import { showInteraction as show } from '../../oidc/interactions.ts';
import { asPage } from './pageErrors.ts';

/** The login or consent page of an authorization request in progress. */
export const showInteraction: Handler = ({ ctx }, deps) =>
  asPage(ctx, async () => new Reply(await show(deps, ctx), { type: 'text/html; charset=utf-8' }));
