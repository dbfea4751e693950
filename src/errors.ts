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

/** The options of a status class; `code` is set by `E` only: a specific code is a class in the list below. */
type CodedOptions = AppErrorOptions & { code?: string };

export class InvalidRequest extends AppError {
  constructor(message: string, options: CodedOptions = {}) {
    super(400, options.code ?? 'invalid_request', message, options);
  }

  /**
   * The 400 of input that breaks the rules, each problem a `{path, message}`; the message names them all unless
   * the caller words it for a person.
   */
  static validation(details: ErrorDetail[], message = `invalid request: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`): InvalidRequest {
    return new ValidationFailed(message, { details });
  }
}

export class Unauthenticated extends AppError {
  constructor(message = 'token must exist!', options: CodedOptions = {}) {
    super(401, options.code ?? 'unauthenticated', message, {
      ...options,
      headers: { 'WWW-Authenticate': 'Bearer', ...options.headers },
    });
  }
}

export class Forbidden extends AppError {
  constructor(message = 'you are not allowed to do this', options: CodedOptions = {}) {
    super(403, options.code ?? 'forbidden', message, options);
  }
}

export class NotFound extends AppError {
  constructor(message = 'not found', options: CodedOptions = {}) {
    super(404, options.code ?? 'not_found', message, options);
  }
}

export class MethodNotAllowed extends AppError {
  constructor(message: string, allow: readonly string[]) {
    super(405, 'method_not_allowed', message, { headers: { Allow: allow.join(', ') } });
  }
}

export class Conflict extends AppError {
  constructor(message: string, options: CodedOptions = {}) {
    super(409, options.code ?? 'conflict', message, options);
  }
}

/** 412: a conditional request (If-Match) names a version that is no longer current. */
class PreconditionFailed extends AppError {
  constructor(message: string, options: CodedOptions = {}) {
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

/** 503: unlike other 5xx errors its message is written for the caller (what is down, when to try again): shown. */
export class ServiceUnavailable extends AppError {
  override readonly expose = true;
  constructor(message: string, options: CodedOptions = {}) {
    super(503, options.code ?? 'service_unavailable', message, options);
  }
}

/** Thrown when a stored ciphertext does not authenticate: tampered, truncated or bound to another row. */
export class DecryptionError extends Error {
  constructor(message = 'ciphertext failed authentication', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecryptionError';
  }
}

/** A status class whose constructor takes a message and the options (and so a code). */
type StatusClass<T extends AppError> = new (message: string, options?: CodedOptions) => T;

/** A specific code of a status class: its message is the one thrown, its description when none is given. */
export type CodedError<T extends AppError> = new (message?: string, options?: AppErrorOptions) => T;

/**
 * The factory of specific error codes (oidc-provider's `E(code, description)`): `E(NotFound, 'ring_not_found')`
 * is the class of NotFound errors whose code is ring_not_found. Every code the API answers is made here, below,
 * so the codes are one list and a code is never spelled twice.
 */
export function E<T extends AppError>(Base: StatusClass<T>, code: string, description?: string): CodedError<T> {
  const Coded = class extends (Base as StatusClass<AppError>) {
    constructor(message?: string, options: AppErrorOptions = {}) {
      super(message ?? description ?? code.replaceAll('_', ' '), { ...options, code });
    }
  };
  const name = code.replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());
  Object.defineProperty(Coded, 'name', { value: name });
  return Coded as unknown as CodedError<T>;
}

// Input (400).
export const ValidationFailed = E(InvalidRequest, 'validation_failed');
export const MalformedBody = E(InvalidRequest, 'malformed_body');
export const CredentialInQuery = E(InvalidRequest, 'credential_in_query');
export const HttpsRequired = E(InvalidRequest, 'https_required');
export const PrivateKeyRefused = E(InvalidRequest, 'private_key_refused');
export const WeakPassword = E(InvalidRequest, 'weak_password');
export const WrongPassword = E(InvalidRequest, 'wrong_password');
export const NoCodePending = E(InvalidRequest, 'no_code_pending');
export const InvalidCode = E(InvalidRequest, 'invalid_code');
export const WrongCode = E(InvalidRequest, 'wrong_code');
export const CodeExpired = E(InvalidRequest, 'code_expired');
export const CodeAttemptsExceeded = E(InvalidRequest, 'code_attempts_exceeded');
export const InvalidResetToken = E(InvalidRequest, 'invalid_reset_token');
export const ResetTokenExpired = E(InvalidRequest, 'reset_token_expired');
export const InvalidCursor = E(InvalidRequest, 'invalid_cursor');
export const InvalidIfMatch = E(InvalidRequest, 'invalid_if_match');
export const InvalidImage = E(InvalidRequest, 'invalid_image');
export const UnsupportedImage = E(InvalidRequest, 'unsupported_image');
export const InvalidService = E(InvalidRequest, 'invalid_service');
export const CsrfFailed = E(InvalidRequest, 'csrf_failed');
export const InteractionNotFound = E(InvalidRequest, 'interaction_not_found');

// Credentials (401).
export const TokenMissing = E(Unauthenticated, 'token_missing', 'token must exist!');
export const InvalidToken = E(Unauthenticated, 'invalid_token');
export const TokenRevoked = E(Unauthenticated, 'token_revoked');
export const TokenExpired = E(Unauthenticated, 'token_expired', 'token has expired!');
export const InvalidGrant = E(Unauthenticated, 'invalid_grant');
export const RefreshTokenReused = E(Unauthenticated, 'refresh_token_reused');
export const InvalidCredentials = E(Unauthenticated, 'invalid_credentials');
export const InvalidDpopProof = E(Unauthenticated, 'invalid_dpop_proof');

// Refused (403).
export const InsufficientScope = E(Forbidden, 'insufficient_scope');
export const NotAnOperator = E(Forbidden, 'not_an_operator');

// Absent (404).
export const UserNotFound = E(NotFound, 'user_not_found');
export const StatusNotFound = E(NotFound, 'status_not_found');
export const AvatarNotFound = E(NotFound, 'avatar_not_found');
export const RingNotFound = E(NotFound, 'ring_not_found');
export const GrantNotFound = E(NotFound, 'grant_not_found');
export const ServiceNotFound = E(NotFound, 'service_not_found');

// State (409).
export const EmailExists = E(Conflict, 'email_exists', 'the email exists!');
export const HandleExists = E(Conflict, 'handle_exists', 'the handle exists!');
export const AlreadyVerified = E(Conflict, 'already_verified');
export const RingExists = E(Conflict, 'ring_exists');
export const DefaultRing = E(Conflict, 'default_ring');

// Version (412).
export const ProfileChanged = E(PreconditionFailed, 'profile_changed');

// Unavailable (503).
/** This instance's policy revision is no longer the one in force (issue 21): it answers nothing until it has it. */
export const PolicyOutdated = E(ServiceUnavailable, 'policy_outdated');

// Documents and deliveries (issue 16).
export const InvalidDocument = E(InvalidRequest, 'invalid_document');
export const DocumentNotFound = E(NotFound, 'document_not_found');
export const DeliveryNotFound = E(NotFound, 'delivery_not_found');
export const DocumentLimit = E(Conflict, 'document_limit');

// The console's browser session (issue 20).
export const CsrfRefused = E(Forbidden, 'csrf_refused');

// Credentials (issue 14).
/** 422: the request is well formed but its content cannot be used (a photo with no readable barcode). */
class Unprocessable extends AppError {
  constructor(message: string, options: CodedOptions = {}) {
    super(422, options.code ?? 'unprocessable', message, options);
  }
}
export const CredentialFieldsMissing = E(InvalidRequest, 'credential_fields_missing', 'credential_type,credential_image must exist!');
export const UnknownCredentialType = E(InvalidRequest, 'unknown_credential_type');
export const BarcodeUnreadable = E(Unprocessable, 'barcode_unreadable');
export const NotAamva = E(Unprocessable, 'not_aamva');
export const CredentialTypeMismatch = E(Unprocessable, 'credential_type_mismatch');
export const CredentialNotFound = E(NotFound, 'credential_not_found');
export const CredentialNotPending = E(Conflict, 'credential_not_pending');
export const CredentialChecksFailed = E(Conflict, 'credential_checks_failed');

// Health records and links (issue 17).
export const HealthRecordNotFound = E(NotFound, 'health_record_not_found');
export const HealthLinkNotFound = E(NotFound, 'health_link_not_found');
export const HealthLinkGone = E(NotFound, 'health_link_gone', 'this link has expired or was revoked');
export const InvalidExpiration = E(InvalidRequest, 'invalid_expiration');
export const RecordsWithheld = E(InvalidRequest, 'records_withheld');

// Strong authentication and the portable profile (issue 18).
export const StepUpRequired = E(Unauthenticated, 'step_up_required');
export const InvalidSignature = E(Unauthenticated, 'invalid_signature');
export const ChallengeUnknown = E(Unauthenticated, 'challenge_unknown');
export const ChallengeUsed = E(Unauthenticated, 'challenge_used');
export const ChallengeExpired = E(Unauthenticated, 'challenge_expired');
export const PasskeyRefused = E(Unauthenticated, 'passkey_refused');
export const PasskeyNotFound = E(NotFound, 'passkey_not_found');
export const SessionNotFound = E(NotFound, 'session_not_found');
export const PasskeyExists = E(Conflict, 'passkey_exists');
export const NoPublicKey = E(Conflict, 'no_public_key');
export const ExportKeyUnsupported = E(Conflict, 'export_key_unsupported');
export const ImportNotAllowed = E(Conflict, 'import_not_allowed');
export const ContainerInvalid = E(InvalidRequest, 'container_invalid');
export const ContainerSignatureInvalid = E(InvalidRequest, 'container_signature_invalid');
export const IssuerUnreachable = E(InvalidRequest, 'issuer_unreachable');
// Shares and share requests (issue 14: selective disclosure).
export const UnknownInfoField = E(InvalidRequest, 'unknown_info_field');
export const FieldNotShareable = E(Forbidden, 'field_not_shareable');
export const CredentialRequired = E(Conflict, 'credential_required');
export const ShareNotFound = E(NotFound, 'share_not_found');
export const StatusListNotFound = E(NotFound, 'status_list_not_found');
export const SubjectNotFound = E(NotFound, 'subject_not_found');
export const RequestNotFound = E(NotFound, 'request_not_found');
export const RequestClosed = E(Conflict, 'request_closed');

// Emergency access (issue 15).
export const EmergencyFieldsMissing = E(InvalidRequest, 'emergency_fields_missing', 'responder_id,reason,email must exist!');
export const InvalidEmergencySetup = E(InvalidRequest, 'invalid_emergency_setup');
export const InvalidDeclineToken = E(InvalidRequest, 'invalid_decline_token');
export const NotAnEmergencyResponder = E(Forbidden, 'not_an_emergency_responder');
export const ResponderNotVerified = E(Forbidden, 'responder_not_verified');
export const ResponderInactive = E(Forbidden, 'responder_inactive');
export const CriterionNotAllowed = E(Forbidden, 'criterion_not_allowed');
export const EmergencyAccessEnded = E(Forbidden, 'emergency_access_ended');
export const EmergencyAccessNotFound = E(NotFound, 'emergency_access_not_found');
export const AccessLogNotFound = E(NotFound, 'access_log_not_found');
export const ResponderNotFound = E(NotFound, 'responder_not_found');
export const EmergencyAccessExists = E(Conflict, 'emergency_access_exists');
export const ResponderExists = E(Conflict, 'responder_exists');
