/**
 * Composes the Koa app without listening: request id, request log, errors (the envelope, or the error page on the
 * interaction pages), security headers, CORS when configured, no-store, then the routes generated from openapi.yaml
 * and the 404/405 fallbacks.
 */
import Koa from 'koa';
import helmet from 'koa-helmet';
import cors from '@koa/cors';
import mount from 'koa-mount';
import { cookieKeys } from './oidc/provider.ts';
import { createBodyReader } from './http/body.ts';
import { requestId } from './http/middleware/request-id.ts';
import { requestLog } from './http/middleware/request-log.ts';
import { errorEnvelope } from './http/middleware/error-envelope.ts';
import { noStore } from './http/middleware/no-store.ts';
import { policyFence } from './http/middleware/policy-fence.ts';
import { fallbacks } from './http/middleware/fallbacks.ts';
import { oidcHttpsOnly } from './http/middleware/oidc-https-only.ts';
import { buildRouter } from './http/router.ts';
import { FOLDERS, HANDLERS } from './http/operations.ts';
import { SECURITY_RESOLVERS } from './http/security.ts';
import type { OpenApi } from './http/openapi.ts';
import type { AppDeps, Handler, SecurityResolver } from './deps.ts';
import type { Provider } from './oidc/provider.ts';

export interface Routes {
  /** The contract the routes are built from (openapi.yaml, loaded once at start). */
  spec: OpenApi;
  handlers: Readonly<Record<string, Handler>>;
  resolvers: Readonly<Record<string, SecurityResolver>>;
  /** operationId → the feature folder of its handler; the spec's tags must name them (src/http/operations.ts). */
  folders?: Readonly<Record<string, string>>;
}

/** The production routes; tests of the router itself pass their own spec and handlers. */
export const ROUTES: Omit<Routes, 'spec'> = { handlers: HANDLERS, resolvers: SECURITY_RESOLVERS, folders: FOLDERS };

export function createApp(deps: AppDeps, routes: Routes): Koa {
  const app = new Koa();
  // Mounted, the provider signs its cookies with the host app's keys.
  app.keys = cookieKeys(deps.keyring);
  app.silent = true;
  // Behind a load balancer every client would otherwise share its address, in throttles and in the audit log.
  app.proxy = deps.config.trustProxy; // errors are logged by the error envelope, once
  const router = buildRouter({
    spec: routes.spec,
    handlers: routes.handlers,
    resolvers: routes.resolvers,
    folders: routes.folders,
    deps,
    readBody: createBodyReader(deps.config),
  });

  app.use(requestId());
  app.use(requestLog(deps.logger));
  app.use(errorEnvelope(deps.logger));
  app.use(
    helmet({
      contentSecurityPolicy: {
        // Over plain HTTP (development), upgrading subresources to HTTPS would break every page.
        directives: { upgradeInsecureRequests: deps.config.baseUrl.startsWith('https:') ? [] : null },
      },
      strictTransportSecurity: deps.config.baseUrl.startsWith('https:') ? { maxAge: 31536000, includeSubDomains: true } : false,
    }),
  );
  if (deps.config.corsOrigins.length > 0) {
    const allowed = new Set(deps.config.corsOrigins);
    app.use(
      cors({
        origin: (ctx: Koa.Context) => (allowed.has(ctx.get('origin')) ? ctx.get('origin') : ''),
        allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
      }),
    );
  }
  app.use(noStore());
  // An instance whose policy revision is no longer in force answers 503 until it has it (src/policy/revision.ts).
  if (deps.policy) app.use(policyFence(deps.policy.engine));
  app.use(fallbacks(router, routes.spec));
  // Behind TLS the provider cannot set its secure cookies on a request that reached the service unencrypted.
  if (deps.oidc && deps.config.baseUrl.startsWith('https:')) app.use(oidcHttpsOnly(deps.config.baseUrl));
  // The OpenID provider renders its own OAuth errors; everything else is the spec's routes.
  // The provider in use now: it is rebuilt when the signing keys or the policy's scopes change (src/oidc/index.ts).
  if (deps.oidc) {
    const mounted = new WeakMap<Provider, Koa.Middleware>();
    app.use((ctx, next) => {
      const provider = deps.oidc.provider;
      let middleware = mounted.get(provider);
      if (!middleware) {
        middleware = mount('/oidc', provider as unknown as Koa);
        mounted.set(provider, middleware);
      }
      return middleware(ctx, next);
    });
  }
  app.use(router.routes());
  return app;
}
