/**
 * The credentials of a share: SD-JWT VCs (`typ: dc+sd-jwt`) signed by Ringfence's issuer key, each claim chosen a
 * selectively disclosable one, and the IETF Token Status Lists (`statuslist+jwt`) they point into. Built with the
 * reference implementation (@sd-jwt 0.19); salts are 128-bit (the library's default is 64).
 */
import { randomBytes } from 'node:crypto';
import { Jwt } from '@sd-jwt/core';
import { digest, ES256 } from '@sd-jwt/crypto-nodejs';
import { createHeaderAndPayload, StatusList } from '@sd-jwt/jwt-status-list';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import type { IssuerJwk } from '../../crypto/issuer-keys.ts';

/** The credential type of every share. */
const SHARE_VCT = 'urn:ringfence:vct:share:1';

/** 128 bits of salt per disclosure, whatever length the library asks for. */
const salt = () => randomBytes(16).toString('base64url');

type Sign = (data: string) => Promise<string>;
type Check = (data: string, signature: string) => Promise<boolean>;
// Imported once per key: a WebCrypto import per credential would cost more than the signature.
const signers = new Map<string, Promise<Sign>>();
const checkers = new Map<string, Promise<Check>>();

function signerOf(key: IssuerJwk): Promise<Sign> {
  let s = signers.get(key.kid);
  if (!s) {
    s = ES256.getSigner({ kty: key.kty, crv: key.crv, x: key.x, y: key.y, d: key.d });
    signers.set(key.kid, s);
  }
  return s;
}

function checkerOf(key: { kid: string; kty?: string; crv?: string; x?: string; y?: string }): Promise<Check> {
  let c = checkers.get(key.kid);
  if (!c) {
    c = ES256.getVerifier({ kty: key.kty, crv: key.crv, x: key.x, y: key.y });
    checkers.set(key.kid, c);
  }
  return c;
}

/** A verifier for @sd-jwt that picks the key by the JWT header's `kid` among `keys` (public JWKs). */
function verifierFor(keys: readonly { kid: string; kty?: string; crv?: string; x?: string; y?: string }[]) {
  return async (data: string, signature: string): Promise<boolean> => {
    let kid: unknown;
    try {
      kid = (JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8')) as { kid?: unknown }).kid;
    } catch {
      return false;
    }
    const key = keys.find((k) => k.kid === kid);
    return key ? (await checkerOf(key))(data, signature) : false;
  };
}

export interface ShareCredential {
  issuer: string;
  /** The service's client id: the JWT `aud` and the `client_id` claim. */
  clientId: string;
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
  status: { idx: number; uri: string };
  /** The chosen claims, each selectively disclosable; nothing else about the person. */
  claims: Record<string, unknown>;
}

/** Issues the SD-JWT VC of a share, signed with the active issuer key, every disclosure included. */
export async function issueShareCredential(key: IssuerJwk, c: ShareCredential): Promise<string> {
  const sdjwt = new SDJwtVcInstance({
    signer: await signerOf(key),
    signAlg: 'ES256',
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: salt,
  });
  const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
  return sdjwt.issue(
    {
      iss: c.issuer,
      vct: SHARE_VCT,
      aud: c.clientId,
      client_id: c.clientId,
      iat: seconds(c.issuedAt),
      exp: seconds(c.expiresAt),
      jti: c.jti,
      status: { status_list: c.status },
      ...c.claims,
    },
    { _sd: Object.keys(c.claims) as never },
    { header: { kid: key.kid } },
  );
}

export interface VerifiedShare {
  payload: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const REGISTERED = new Set(['iss', 'vct', 'aud', 'client_id', 'iat', 'exp', 'nbf', 'jti', 'status', 'cnf', 'sub', '_sd_alg']);

/**
 * Verifies a share's signature, disclosures and expiry with the issuer's public keys (not its status: the caller
 * reads that); throws when anything fails.
 */
export async function verifyShareCredential(
  keys: readonly { kid: string; kty?: string; crv?: string; x?: string; y?: string }[],
  token: string,
): Promise<VerifiedShare> {
  const sdjwt = new SDJwtVcInstance({ verifier: verifierFor(keys), hasher: digest, hashAlg: 'sha-256' });
  const { payload, header } = await sdjwt.validate(token);
  if (header?.typ !== 'dc+sd-jwt') throw new Error('not an SD-JWT VC (typ must be dc+sd-jwt)');
  const p = payload as Record<string, unknown>;
  if (p.vct !== SHARE_VCT) throw new Error('not a Ringfence share');
  const claims = Object.fromEntries(Object.entries(p).filter(([k]) => !REGISTERED.has(k)));
  return { payload: p, claims };
}

/** The signed Token Status List (1 bit per status) for `uri`, every index in `revoked` set. */
export async function signStatusList(
  key: IssuerJwk,
  options: { issuer: string; uri: string; size: number; revoked: readonly number[]; ttlSeconds: number; now?: Date },
): Promise<string> {
  const statuses = new Array<number>(options.size).fill(0);
  for (const i of options.revoked) statuses[i] = 1;
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const { header, payload } = createHeaderAndPayload(
    new StatusList(statuses, 1),
    // The list expires well after its ttl: a verifier refreshes it every ttl, and never trusts a stale copy for long.
    { iss: options.issuer, sub: options.uri, iat, exp: iat + Math.max(3600, options.ttlSeconds * 10), ttl: options.ttlSeconds },
    { alg: 'ES256', typ: 'statuslist+jwt', kid: key.kid },
  );
  return new Jwt({ header, payload }).sign(await signerOf(key));
}
