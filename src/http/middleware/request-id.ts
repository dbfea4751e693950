/** Gives every request an id (the caller's X-Request-Id when it is sane), echoed in the response and the logs. */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

const SANE = /^[A-Za-z0-9._-]{8,128}$/;

export function requestId() {
  return async function requestIdMiddleware(ctx: Context, next: Next) {
    const given = ctx.get('x-request-id');
    const id = SANE.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}
