/**
 * While this instance's policy revision is not the one in force (src/policy/revision.ts), it answers nothing that a
 * policy decides — which is nearly everything, the provider's endpoints included — with 503 policy_outdated and
 * Retry-After; /readyz fails the same way, so a load balancer takes the instance out. Still answered: liveness (the
 * process is fine; restarting it with the same files would not help), the published keys (tokens other instances
 * signed must stay verifiable through every instance) and the API's own documents.
 */
import type { Context, Next } from 'koa';
import type { PolicyEngine } from '../../policy/engine.ts';

const ALWAYS = new Set(['/healthz', '/oidc/jwks', '/api/v1/issuer/jwks.json', '/openapi.yaml', '/docs']);

export function policyFence(engine: PolicyEngine) {
  return async function policyFenceMiddleware(ctx: Context, next: Next) {
    if (!ALWAYS.has(ctx.path) && !ctx.path.startsWith('/docs/')) {
      const refusal = engine.refusal();
      if (refusal) throw refusal;
    }
    await next();
  };
}
