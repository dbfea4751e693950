import { Reply, type Handler } from '../../deps.ts';
import { assertCsrf, submitConsent } from '../../oidc/interactions.ts';

export const submitInteractionConsent: Handler = async ({ ctx, params, body, clientIp }, deps) => {
  assertCsrf(deps, params.uid, body.csrf);
  const approved = ((body.scope as string[] | undefined) ?? []).map(String);
  const redirectTo = await submitConsent(deps, ctx, approved, clientIp);
  return new Reply(undefined, { status: 303, headers: { Location: redirectTo } });
};
