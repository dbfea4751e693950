/**
 * One error hierarchy, mapped to the response envelope in exactly one place (src/http/middleware/error-envelope.ts).
 * Koa reads `status`, `expose` and `headers` from thrown errors; we keep to that contract.
 */

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  details?: ErrorDetail[];
  headers?: Record<string, string>;
  /** Logged, never sent. */
  detail?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly detail: string | undefined;

  constructor(status: number, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = status < 500;
    this.details = options.details;
    this.headers = options.headers;
    this.detail = options.detail;
  }
}

export class InvalidRequest extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(400, options.code ?? 'invalid_request', message, options);
  }
}

export class Unauthenticated extends AppError {
  constructor(message = 'token must exist!', options: AppErrorOptions & { code?: string } = {}) {
    super(401, options.code ?? 'unauthenticated', message, {
      ...options,
      headers: { 'WWW-Authenticate': 'Bearer', ...options.headers },
    });
  }
}

export class Forbidden extends AppError {
  constructor(message = 'you are not allowed to do this', options: AppErrorOptions & { code?: string } = {}) {
    super(403, options.code ?? 'forbidden', message, options);
  }
}

export class NotFound extends AppError {
  constructor(message = 'not found', options: AppErrorOptions & { code?: string } = {}) {
    super(404, options.code ?? 'not_found', message, options);
  }
}

export class MethodNotAllowed extends AppError {
  constructor(message: string, allow: readonly string[]) {
    super(405, 'method_not_allowed', message, { headers: { Allow: allow.join(', ') } });
  }
}

export class Conflict extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(409, options.code ?? 'conflict', message, options);
  }
}

/** 412: a conditional request (If-Match) names a version that is no longer current. */
export class PreconditionFailed extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(412, options.code ?? 'precondition_failed', message, options);
  }
}

export class PayloadTooLarge extends AppError {
  constructor(message: string) {
    super(413, 'payload_too_large', message);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

export class TooManyRequests extends AppError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'too_many_requests', message, {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class ServiceUnavailable extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(503, 'service_unavailable', message, options);
  }
}

/** Thrown when a stored ciphertext does not authenticate: tampered, truncated or bound to another row. */
export class DecryptionError extends Error {
  constructor(message = 'ciphertext failed authentication', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecryptionError';
  }
}
