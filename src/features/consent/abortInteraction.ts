import { Reply, type Handler } from '../../http/types.ts';
import { abortInteraction as abort } from '../../oidc/interactions.ts';
import { asPage } from './pageErrors.ts';

/** The person declines: the service receives access_denied. */
export const abortInteraction: Handler = ({ ctx }, deps) =>
  asPage(ctx, async () => new Reply(undefined, { status: 303, headers: { Location: await abort(deps, ctx) } }));
