/**
 * Behind TLS (an https BASE_URL, so TRUST_PROXY=true: src/config.ts) the provider's cookies are secure, and it cannot
 * set them on a request that reached the service unencrypted — around the proxy, or through one that does not send
 * X-Forwarded-Proto. Such a request is refused plainly instead of failing inside the provider.
 */
import type { Context, Next } from 'koa';
import { HttpsRequired } from '../../errors.ts';

export function oidcHttpsOnly(baseUrl: string) {
  return async function oidcHttpsOnlyMiddleware(ctx: Context, next: Next) {
    if (!ctx.secure && (ctx.path === '/oidc' || ctx.path.startsWith('/oidc/'))) {
      throw new HttpsRequired(
        `the OpenID provider is served over HTTPS only: use ${baseUrl}/oidc, through the TLS proxy (which must set X-Forwarded-Proto)`,
      );
    }
    await next();
  };
}
