import { Reply, type Handler } from '../../deps.ts';
import { assertCsrf, submitLogin } from '../../oidc/interactions.ts';

export const submitInteractionLogin: Handler = async ({ ctx, params, body, clientIp }, deps) => {
  assertCsrf(deps, params.uid, body.csrf);
  const redirectTo = await submitLogin(deps, ctx, { login: String(body.login ?? ''), password: String(body.password ?? '') }, clientIp);
  return new Reply(undefined, { status: 303, headers: { Location: redirectTo } });
};
