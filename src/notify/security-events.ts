/**
 * Security Event Tokens (RFC 8417) for services registered for the OpenID Shared Signals Framework: the events a
 * Standard Webhooks endpoint gets as JSON (src/notify/webhooks.ts), as the OpenID CAEP events that say the same —
 *
 * - `grant.revoked` → CAEP `session-revoked`: the service's sessions with the person are over (it was revoked, its
 *   consent narrowed, or the service disabled; `initiating_entity` says who, `reason_admin` why);
 * - `profile.updated` → CAEP `token-claims-change`: the claims that changed, **with their new values** — CAEP
 *   requires them (`claims`). A value is a release, so it is released at the moment of sending through the
 *   disclosure pipeline under what the service holds then (its grant, a document linked to it), on record before
 *   the SET leaves, and only what its role and the person's rings allow (src/features/deliveries/caep.ts). Nothing
 *   with a value is stored: the delivery's row keeps the thin event, the SET is signed per attempt.
 *
 * Signed with Ringfence's issuer key (ES256, published at /api/v1/issuer/jwks.json and named by
 * /.well-known/ssf-configuration), `typ: secevent+jwt`; `aud` is the service's client_id; `jti` is the delivery's
 * `webhook-id`, the same on every attempt, so a receiver drops a redelivery (RFC 8935 §2); the person is `sub_id`
 * in the `iss_sub` format (RFC 9493): the service's own (pairwise) subject with the OpenID provider's issuer, the pair
 * its ID tokens carry. `claims` are named as the service's tokens and userinfo name them (`address`), a field with no
 * OpenID claim by its data API name.
 */
import { importJWK, type JWK, SignJWT } from 'jose';

/** The media type of a pushed SET (RFC 8935 §2). */
export const SET_MEDIA_TYPE = 'application/secevent+jwt';
/** The delivery method's URN (SSF 1.0 §7.1.1, RFC 8935). */
export const PUSH_DELIVERY = 'urn:ietf:rfc:8935';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type';
const SESSION_REVOKED = `${CAEP}/session-revoked`;
const TOKEN_CLAIMS_CHANGE = `${CAEP}/token-claims-change`;

/** The key that signs: the issuer key's active JWK. */
export interface SetSigner {
  /** The SET's `iss`: the transmitter (/.well-known/ssf-configuration). */
  issuer: string;
  /** The issuer of the subjects (`sub_id`'s `iss`): the OpenID provider that issued the service its `sub`. */
  subjectIssuer: string;
  key: JWK & { kid: string; alg: string };
}

/** What one event is about, from the delivery's thin body. */
export interface ThinEvent {
  id: string;
  type: string;
  timestamp: string;
  subject: string;
  reason?: string;
  scopes?: string[];
}

const REVOCATION: Record<string, { entity: 'user' | 'admin'; text: string }> = {
  revoked: { entity: 'user', text: 'The person revoked the service.' },
  narrowed: { entity: 'user', text: 'The person narrowed the consent given to the service.' },
  service_disabled: { entity: 'admin', text: 'An operator disabled the service.' },
};

/** The CAEP event (its type URI and its members) saying what the thin event says; `claims` for a claims change. */
function caepEvent(event: ThinEvent, claims?: Record<string, unknown>): { type: string; body: Record<string, unknown> } {
  const event_timestamp = Math.floor(Date.parse(event.timestamp) / 1000);
  if (event.type === 'grant.revoked') {
    const why = REVOCATION[event.reason ?? 'revoked'] ?? REVOCATION.revoked;
    const lost = event.scopes?.length ? ` Scopes taken away: ${event.scopes.join(' ')}.` : '';
    return { type: SESSION_REVOKED, body: { event_timestamp, initiating_entity: why.entity, reason_admin: { en: `${why.text}${lost}` } } };
  }
  if (event.type === 'profile.updated') {
    if (!claims || Object.keys(claims).length === 0) throw new Error('a token-claims-change needs at least one claim');
    return { type: TOKEN_CLAIMS_CHANGE, body: { event_timestamp, claims } };
  }
  throw new Error(`no CAEP event for ${event.type}`);
}

/** The SET of one event to one service, signed. */
export async function signSecurityEvent(
  signer: SetSigner,
  to: { clientId: string },
  event: ThinEvent,
  claims?: Record<string, unknown>,
): Promise<string> {
  const caep = caepEvent(event, claims);
  return new SignJWT({
    sub_id: { format: 'iss_sub', iss: signer.subjectIssuer, sub: event.subject },
    events: { [caep.type]: caep.body },
  })
    .setProtectedHeader({ alg: signer.key.alg, kid: signer.key.kid, typ: 'secevent+jwt' })
    .setIssuer(signer.issuer)
    .setAudience(to.clientId)
    .setJti(event.id)
    .setIssuedAt()
    .sign(await importJWK(signer.key, signer.key.alg));
}

/**
 * What a receiver's 400 said (RFC 8935 §2.3: `{"err": …, "description": …}`), for the delivery's last error; the
 * SET was refused, and sending the same again would be refused again.
 */
export function setRefusal(body: string): string {
  try {
    const parsed = JSON.parse(body) as { err?: unknown };
    // The code only: the receiver's own description is its text, not ours, and the person reads this error.
    if (typeof parsed.err === 'string' && /^[a-z_]{1,40}$/.test(parsed.err)) return `the receiver refused the SET (${parsed.err})`;
  } catch {
    // not the RFC's answer
  }
  return 'the receiver refused the SET (HTTP 400)';
}
