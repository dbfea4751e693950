/**
 * What an error answers, whichever way it is shown: `mapError` turns any error into status, code, message, headers
 * and details; `envelopeOf` writes that as the JSON envelope `{status: <message>, error: <code>, details?}`. Pure: the
 * error middleware (middleware/error-envelope.ts) and the interaction pages' renderer (middleware/error-page.ts) both
 * show what it gives. Errors that are not meant for the caller become a generic server_error.
 */
import { AppError, type ErrorDetail } from '../errors.ts';

export interface Envelope {
  status: string;
  error: string;
  details?: ErrorDetail[];
}

/** What an error answers, whichever way it is shown. */
export interface MappedError {
  status: number;
  code: string;
  /** For the person or program that made the request: what happened and what to do. */
  message: string;
  headers: Record<string, string>;
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

/** The provider's own errors (oidc-provider's OIDCProviderError): an OAuth `error` code and its description. */
interface ProviderError {
  name: string;
  status: number;
  error: string;
  error_description: string;
}

function isProviderError(err: unknown): err is ProviderError {
  const e = err as Partial<ProviderError> | null | undefined;
  return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.error_description === 'string' && typeof e.error === 'string';
}

/** Pure: an error to what is answered for it. */
export function mapError(err: unknown, requestId: string): MappedError {
  if (err instanceof AppError && err.expose) {
    const mapped: MappedError = { status: err.status, code: err.code, message: err.message, headers: err.headers ?? {} };
    if (err.details && err.details.length > 0) mapped.details = err.details;
    return mapped;
  }
  // Thrown by the provider while an interaction page asks it about the sign-in in progress (an expired or missing
  // interaction). Its descriptions name cookies and sessions; a person needs to know what happened instead.
  if (isProviderError(err)) {
    const message = err.name === 'SessionNotFound' ? 'this sign-in request is unknown, has expired or is already complete' : err.error_description;
    return { status: err.status, code: err.error, message, headers: {} };
  }
  // Errors thrown by Koa itself or its libraries (http-errors) carry status and expose.
  const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; headers?: Record<string, string> };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) {
    return { status, code: CODES[status] ?? 'invalid_request', message: e.message || 'the request was refused', headers: e.headers ?? {} };
  }
  return {
    status: 500,
    code: 'server_error',
    message: `something went wrong on our side; quote request id ${requestId} when reporting it`,
    headers: {},
  };
}

/** The JSON envelope of a mapped error. */
export function envelopeOf(mapped: MappedError): Envelope {
  const body: Envelope = { status: mapped.message, error: mapped.code };
  if (mapped.details) body.details = mapped.details;
  return body;
}
