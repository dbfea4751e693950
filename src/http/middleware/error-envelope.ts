/**
 * The one place an error becomes a response. `mapError` (../error-mapping.ts) turns any error into what is
 * answered — status, code, message, headers, details — and the middleware shows that either as the envelope
 * `{status: <message>, error: <code>, details?}` or, on the interaction pages a browser shows, as the error page
 * (./error-page.ts). Errors that are not meant for the caller become a generic server_error; their internals go to
 * the log only.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { AppError, ServiceUnavailable } from '../../errors.ts';
import { envelopeOf, mapError } from '../error-mapping.ts';
import { isInteractionPage, showErrorPage } from './error-page.ts';

/** The one error middleware, first in the chain after the request id and log: maps, logs, and answers. */
export function errorEnvelope(logger: Logger) {
  return async function errorEnvelopeMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      const requestId = (ctx.state.requestId as string | undefined) ?? 'unknown';
      const mapped = mapError(err, requestId);
      if (err instanceof ServiceUnavailable) {
        // Meant for the caller (a draining or outdated instance, the database away): a state, not a fault.
        logger.warn({ req_id: requestId, code: err.code, message: err.message }, 'request refused: unavailable');
      } else if (mapped.status >= 500) {
        logger.error({ err, req_id: requestId, detail: (err as AppError).detail }, 'request failed');
      } else if (err instanceof AppError && err.detail) {
        logger.info({ req_id: requestId, code: err.code, detail: err.detail }, 'request refused');
      }
      if (isInteractionPage(ctx.path)) {
        showErrorPage(ctx, mapped);
        return;
      }
      ctx.status = mapped.status;
      for (const [k, v] of Object.entries(mapped.headers)) ctx.set(k, v);
      ctx.body = envelopeOf(mapped);
    }
  };
}
