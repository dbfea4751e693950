/**
 * Ringfence's own credential issuer keys: what SD-JWT VCs (shares) and their Token Status Lists are signed with.
 * Kept apart from the OpenID provider's signing keys (src/crypto/signing-keys.ts) — a credential verifier trusts
 * exactly these, and rotating one set never touches the other — but kept the same way and by the same rule: sealed
 * under a KEK-derived key, published as public JWKs, a rotated key published (pending) before it signs, and the
 * retired one published for as long as anything it signed may still be checked.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import type { Keyring } from './envelope.ts';
import {
  DEFAULT_PUBLICATION_SECONDS,
  ensureKeys,
  type KeyInfo,
  type KeyTable,
  kidOf,
  listKeys,
  LiveKeys,
  loadKeys,
  rotateKeys,
  type StoredJwk,
} from './signing-keys.ts';

/** How long a retired issuer key is still published: longer than any credential or status list it signed lives. */
export const RETIRED_ISSUER_KEY_RETENTION_DAYS = 30;

export interface IssuerJwk extends StoredJwk {
  alg: 'ES256';
}

function generate(): IssuerJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: kidOf({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }), alg: 'ES256', use: 'sig' };
}

const ISSUER_KEYS: KeyTable<IssuerJwk> = {
  table: 'issuer_keys',
  purpose: 'issuer-keys',
  lock: 0x49535355, // "ISSU": one writer of the issuer keys at a time
  topic: 'issuer_keys',
  algs: ['ES256'],
  retentionDays: RETIRED_ISSUER_KEY_RETENTION_DAYS,
  generate,
};

/** The issuer keys as this instance follows them: `active[0]` signs, `published` verify. `open()` before use. */
export function liveIssuerKeys(db: Queryable, keyring: Keyring): LiveKeys<IssuerJwk> {
  return new LiveKeys(db, keyring, ISSUER_KEYS);
}

/** The private issuer JWKs, read once: the active key first (it signs), then pending and retired ones (they verify). */
export async function loadIssuerKeys(db: Queryable, keyring: Keyring): Promise<IssuerJwk[]> {
  await ensureKeys(db, keyring, ISSUER_KEYS);
  return (await loadKeys(db, keyring, ISSUER_KEYS)).keys.map((k) => k.jwk);
}

/** The published issuer JWKs as stored, public parts only, without writing anything (for a verifier). */
export async function readIssuerPublicKeys(db: Queryable, keyring: Keyring): Promise<ReturnType<typeof publicIssuerJwk>[]> {
  return (await loadKeys(db, keyring, ISSUER_KEYS, { settle: false })).keys.map((k) => publicIssuerJwk(k.jwk));
}

/**
 * Adds a pending issuer key, published at once and signing from `publishForSeconds` from now; returns its kid and
 * when it activates. Refuses while a rotation is pending, and (DecryptionError) when the keyring does not open the
 * key stored: a new key sealed under another KEK would be one the server cannot open.
 */
export async function rotateIssuerKeys(
  db: Queryable,
  keyring: Keyring,
  options: { publishForSeconds?: number } = {},
): Promise<{ kid: string; activatesAt: Date }> {
  const { kids, activatesAt } = await rotateKeys(db, keyring, ISSUER_KEYS, options.publishForSeconds ?? DEFAULT_PUBLICATION_SECONDS);
  return { kid: kids[0], activatesAt };
}

/** Every stored issuer key, newest first, without its private part. */
export function listIssuerKeys(db: Queryable): Promise<KeyInfo[]> {
  return listKeys(db, ISSUER_KEYS);
}

/** The public part of an issuer key, for the JWKS. */
export function publicIssuerJwk(jwk: IssuerJwk): JsonWebKey & { kid: string; alg: string; use: string } {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: jwk.alg, use: jwk.use };
}
