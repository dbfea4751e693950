import { Reply, type Handler } from '../../http/types.ts';
import { assertCsrf, submitLogin } from '../../oidc/interactions.ts';
import { asPage } from './pageErrors.ts';

export const submitInteractionLogin: Handler = ({ ctx, params, body, clientIp }, deps) =>
  asPage(ctx, async () => {
    assertCsrf(deps, params.uid, body.csrf);
    const outcome = await submitLogin(deps, ctx, { login: String(body.login ?? ''), password: String(body.password ?? '') }, clientIp);
    if ('redirectTo' in outcome) return new Reply(undefined, { status: 303, headers: { Location: outcome.redirectTo } });
    return new Reply(outcome.page, { status: outcome.status, type: 'text/html; charset=utf-8' });
  });
