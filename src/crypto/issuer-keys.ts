/**
 * Ringfence's own credential issuer keys: what SD-JWT VCs (shares) and their Token Status Lists are signed with.
 * Kept apart from the OpenID provider's signing keys (src/crypto/signing-keys.ts) — a credential verifier trusts
 * exactly these, and rotating one set never touches the other — but kept the same way: generated here, sealed
 * under a KEK-derived key, published as public JWKs, rotated by putting a new key first and keeping the retired
 * one published for as long as anything it signed may still be checked.
 */
import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import { withTransaction } from '../store/db.ts';
import { open, seal, type Keyring } from './envelope.ts';

/** How long a retired issuer key is still published: longer than any credential or status list it signed lives. */
export const RETIRED_ISSUER_KEY_RETENTION_DAYS = 30;
const PURPOSE = 'issuer-keys';
const LOCK = 0x49535355; // "ISSU": one writer of the issuer keys at a time

export interface IssuerJwk extends JsonWebKey {
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

function generate(): IssuerJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  // RFC 7638-style: the kid is derived from the public part, so it names the key wherever it is published.
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url')
    .slice(0, 22);
  return { ...jwk, kid, alg: 'ES256', use: 'sig' };
}

async function insertKey(q: Queryable, keyring: Keyring): Promise<void> {
  const jwk = generate();
  await q('issuer_keys').insert({
    kid: jwk.kid,
    alg: jwk.alg,
    private_jwk: seal(keyring.derive(PURPOSE), JSON.stringify(jwk), `issuer_keys:${jwk.kid}`),
    state: 'active',
  });
}

/** The private issuer JWKs: the active key first (it signs), then retired ones still published (they verify). */
export async function loadIssuerKeys(db: Queryable, keyring: Keyring): Promise<IssuerJwk[]> {
  await withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [LOCK]);
    if (!(await trx('issuer_keys').where({ state: 'active' }).first())) await insertKey(trx, keyring);
  });
  const key = keyring.derive(PURPOSE);
  const rows = (await db('issuer_keys')
    .where({ state: 'active' })
    .orWhere((q) => q.where({ state: 'retired' }).andWhere('retired_at', '>', db.raw(`now() - interval '${RETIRED_ISSUER_KEY_RETENTION_DAYS} days'`)))
    .orderByRaw(`case state when 'active' then 0 else 1 end`)
    .orderBy('created_at', 'desc')) as { kid: string; private_jwk: Uint8Array }[];
  return rows.map((r) => JSON.parse(open(key, Buffer.from(r.private_jwk), `issuer_keys:${r.kid}`).toString('utf8')) as IssuerJwk);
}

/**
 * Retires the active issuer key and creates a new one; returns the new kid. Refuses (DecryptionError) when the
 * keyring does not open the key stored: a new key sealed under another KEK would be one the server cannot open.
 */
export async function rotateIssuerKeys(db: Queryable, keyring: Keyring): Promise<string> {
  return withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [LOCK]);
    const key = keyring.derive(PURPOSE);
    const active = (await trx('issuer_keys').where({ state: 'active' }).select('kid', 'private_jwk')) as { kid: string; private_jwk: Uint8Array }[];
    for (const r of active) open(key, Buffer.from(r.private_jwk), `issuer_keys:${r.kid}`);
    await trx('issuer_keys').where({ state: 'active' }).update({ state: 'retired', retired_at: trx.fn.now() });
    await insertKey(trx, keyring);
    return ((await trx('issuer_keys').where({ state: 'active' }).first('kid')) as { kid: string }).kid;
  });
}

/** The public part of an issuer key, for the JWKS. */
export function publicIssuerJwk(jwk: IssuerJwk): JsonWebKey & { kid: string; alg: string; use: string } {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: jwk.alg, use: jwk.use };
}
