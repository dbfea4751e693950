/** What a request that matched no route is answered: 405 with Allow, or 404 — never an empty body. */
import type { Context, Next } from 'koa';
import type Router from '@koa/router';
import { MethodNotAllowed, NotFound } from '../../errors.ts';
import type { OpenApi } from '../openapi.ts';

/** After the routes: 405 with `Allow` when the path exists under another method, else the 404 envelope. */
export function fallbacks(router: Router, spec: OpenApi) {
  const messages = new Map(spec.operations.filter((o) => o.wrongMethodMessage).map((o) => [o.routerPath, o.wrongMethodMessage!]));
  return async function fallbackMiddleware(ctx: Context, next: Next) {
    await next();
    if (ctx.body !== undefined || ctx.status !== 404) return;
    const match = router.match(ctx.path, ctx.method);
    if (match.path.length > 0 && !match.route) {
      const allow = [...new Set(match.path.flatMap((layer) => layer.methods))];
      const message = match.path.map((layer) => messages.get(String(layer.path))).find(Boolean);
      if (ctx.method === 'OPTIONS') {
        ctx.status = 204;
        ctx.set('Allow', allow.join(', '));
        return;
      }
      throw new MethodNotAllowed(message ?? `${ctx.method} is not allowed here: use ${allow.join(', ')}`, allow);
    }
    throw new NotFound(`no such endpoint: ${ctx.method} ${ctx.path} (see /docs)`);
  };
}
