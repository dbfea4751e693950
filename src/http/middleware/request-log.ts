/**
 * One JSON log line per request: never the query string or the body, which may carry credentials, nor a path that
 * is one (a handler names such a path's template in `ctx.state.logPath`: a health link's token).
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

export function requestLog(logger: Logger) {
  return async function requestLogMiddleware(ctx: Context, next: Next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        req_id: ctx.state.requestId as string,
        method: ctx.method,
        path: (ctx.state.logPath as string | undefined) ?? ctx.path,
        status: ctx.status,
        ms: Math.round(ms * 100) / 100,
        ip: ctx.ip,
        operation: ctx.state.operationId as string | undefined,
      };
      // A 503 is an answer the instance means (draining, an outdated policy revision): logged, not raised as a fault.
      if (ctx.status === 503) logger.warn(line, 'request');
      else if (ctx.status >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
