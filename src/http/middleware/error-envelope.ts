/**
 * The one place an error becomes a response: `{status: <message>, error: <code>, details?}`. Errors that are not
 * meant for the caller become a generic server_error; their internals go to the log only.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { AppError, type ErrorDetail } from '../../errors.ts';

export interface Envelope {
  status: string;
  error: string;
  details?: ErrorDetail[];
}

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  411: 'length_required',
  412: 'precondition_failed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  428: 'precondition_required',
  429: 'too_many_requests',
  431: 'headers_too_large',
};

/** Pure: an error to its status, headers and envelope. */
export function toEnvelope(err: unknown, requestId: string): { status: number; headers: Record<string, string>; body: Envelope } {
  if (err instanceof AppError && err.expose) {
    const body: Envelope = { status: err.message, error: err.code };
    if (err.details && err.details.length > 0) body.details = err.details;
    return { status: err.status, headers: err.headers ?? {}, body };
  }
  // Errors thrown by Koa itself or its libraries (http-errors) carry status and expose.
  const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; headers?: Record<string, string> };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) {
    return {
      status,
      headers: e.headers ?? {},
      body: { status: e.message || 'the request was refused', error: CODES[status] ?? 'invalid_request' },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { status: `something went wrong on our side; quote request id ${requestId} when reporting it`, error: 'server_error' },
  };
}

export function errorEnvelope(logger: Logger) {
  return async function errorEnvelopeMiddleware(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      const requestId = (ctx.state.requestId as string | undefined) ?? 'unknown';
      const { status, headers, body } = toEnvelope(err, requestId);
      if (status >= 500) {
        logger.error({ err, req_id: requestId, detail: (err as AppError).detail }, 'request failed');
      } else if (err instanceof AppError && err.detail) {
        logger.info({ req_id: requestId, code: err.code, detail: err.detail }, 'request refused');
      }
      ctx.status = status;
      for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
      ctx.body = body;
    }
  };
}
