/**
 * Responses carry personal data or tokens unless a handler says otherwise: never let a cache keep them. Errors too:
 * they answer one request, and may echo what it carried.
 */
import type { Context, Next } from 'koa';

export function noStore() {
  return async function noStoreMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } finally {
      // Set on the way out, thrown or not: the error envelope (outside this middleware) keeps headers set here.
      if (!ctx.response.get('Cache-Control')) {
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Pragma', 'no-cache');
      }
    }
  };
}
