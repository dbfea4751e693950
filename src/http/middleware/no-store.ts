/** Responses carry personal data or tokens unless a handler says otherwise: never let a cache keep them. */
import type { Context, Next } from 'koa';

export function noStore() {
  return async function noStoreMiddleware(ctx: Context, next: Next) {
    await next();
    if (!ctx.response.get('Cache-Control')) {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Pragma', 'no-cache');
    }
  };
}
