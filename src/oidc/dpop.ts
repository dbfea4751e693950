/**
 * DPoP (RFC 9449) at the data API. The provider binds an access token to the key of the DPoP proof sent to its token
 * endpoint (`cnf.jkt`, stored as the token's `jkt`); such a token is only as good as a fresh proof by that key, sent
 * with it as `Authorization: DPoP <token>` + `DPoP: <proof>` — so a stolen bound token is useless without the key.
 * The proof is checked here with `jose` (never by hand): a JWT of type dpop+jwt, signed with an asymmetric algorithm
 * by the public key in its own header, for this method and URL (as the public BASE_URL names it), for this token
 * (`ath`), issued within PROOF_WINDOW_SECONDS of now, and never seen before (a replay cache in the database, shared
 * by every instance). Plain Bearer tokens never come here.
 *
 * Nonces (`DPoP-Nonce`, `use_dpop_nonce`) are not used: the provider runs without `features.dPoP.nonceSecret`, so it
 * issues none and requires none, and neither does the data API; freshness rests on `iat` and the replay cache. A
 * proof carrying a nonce is accepted on those grounds alike (the nonce is not checked, as none was issued).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { InvalidDpopProof, Unauthenticated } from '../errors.ts';
import { runStatement, type Db, type Queryable } from '../store/db.ts';

/** The proof algorithms the provider and the data API accept alike (asymmetric only; the provider's defaults). */
export const DPOP_SIGNING_ALGS = ['ES256', 'Ed25519', 'EdDSA'] as const;

/** How far a proof's `iat` may be from now, either way; also how long its `jti` is remembered. */
const PROOF_WINDOW_SECONDS = 120;

/** A proof that passed every check but replay, which needs the token's binding first (rememberProof). */
export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: must equal the token's `jkt`. */
  thumbprint: string;
  jti: string;
  iat: number;
}

/** The RFC 9449 §7.1 challenge: the error, why, and the algorithms a proof may use. */
function dpopChallenge(error: 'invalid_token' | 'invalid_dpop_proof', description: string): string {
  return `DPoP error="${error}", error_description="${description.replace(/["\\]/g, "'")}", algs="${DPOP_SIGNING_ALGS.join(' ')}"`;
}

/** 401 `invalid_dpop_proof`, with its challenge. */
export function invalidProof(message: string): Unauthenticated {
  return new InvalidDpopProof(message, {
    headers: { 'WWW-Authenticate': dpopChallenge('invalid_dpop_proof', message) },
  });
}

/** 401 `invalid_token` to a request made with the DPoP scheme, with the DPoP challenge. */
export function invalidDpopToken(message: string, code = 'invalid_token'): Unauthenticated {
  return new Unauthenticated(message, { code, headers: { 'WWW-Authenticate': dpopChallenge('invalid_token', message) } });
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Checks the request's DPoP proof for `accessToken` (RFC 9449 §4.3, §7.1), everything but the key binding and the
 * replay, which need the stored token: throws invalidProof naming the first check that fails.
 */
export async function verifyDpopProof(ctx: Context, accessToken: string, baseUrl: string): Promise<DpopProof> {
  const proof = ctx.headers.dpop;
  if (typeof proof !== 'string' || proof === '') {
    throw invalidProof('send one DPoP proof (RFC 9449) in the DPoP header with "Authorization: DPoP <token>"');
  }
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { algorithms: [...DPOP_SIGNING_ALGS], typ: 'dpop+jwt' });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch {
    throw invalidProof(`the DPoP proof must be a JWT of typ dpop+jwt signed with ${DPOP_SIGNING_ALGS.join(', ')} by the public jwk in its header`);
  }
  const { jti, iat, htm, htu } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw invalidProof('the DPoP proof needs a jti string (at most 256 characters)');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalidProof('the DPoP proof needs an iat number');
  if (Math.abs(Date.now() / 1000 - iat) > PROOF_WINDOW_SECONDS) {
    throw invalidProof(`the DPoP proof's iat is more than ${PROOF_WINDOW_SECONDS} seconds from now: make a new proof for each request`);
  }
  if (htm !== ctx.method) throw invalidProof(`the DPoP proof's htm must be this request's method, ${ctx.method}`);
  const expected = new URL(`${baseUrl}${ctx.path}`);
  const actual = typeof htu === 'string' ? URL.parse(htu) : null;
  if (actual) {
    actual.search = '';
    actual.hash = '';
  }
  if (!actual || actual.href !== expected.href) {
    throw invalidProof(`the DPoP proof's htu must be this request's URL without query or fragment, ${expected.href}`);
  }
  if (payload.ath !== ath(accessToken)) throw invalidProof("the DPoP proof's ath must be the base64url SHA-256 of the access token it is sent with");
  if (payload.nonce !== undefined && typeof payload.nonce !== 'string') throw invalidProof("the DPoP proof's nonce must be a string");
  return { thumbprint: await calculateJwkThumbprint(jwk, 'sha256'), jti, iat };
}

/**
 * Records the proof as seen; false when it was seen before and is still within its window (a replay). One statement:
 * an expired row of the same proof is taken over in place, a live one is left alone and nothing is returned.
 */
export async function rememberProof(db: Db, proof: DpopProof): Promise<boolean> {
  const id = createHash('sha256').update(`${proof.thumbprint}.${proof.jti}`).digest('hex');
  const now = new Date();
  const expiresAt = new Date(Math.max(proof.iat * 1000, now.getTime()) + PROOF_WINDOW_SECONDS * 1000);
  const rows = await runStatement<{ id: string }>(
    db,
    'rf_dpop_proof_seen',
    `insert into dpop_proofs (id, expires_at) values (?, ?)
     on conflict (id) do update set expires_at = excluded.expires_at where dpop_proofs.expires_at <= ?
     returning id`,
    [id, expiresAt, now],
  );
  return rows.length === 1;
}

/** Deletes proofs past their window; returns how many. Run periodically by the service. */
export async function sweepSeenProofs(db: Queryable): Promise<number> {
  return db('dpop_proofs').where('expires_at', '<=', new Date()).delete();
}
