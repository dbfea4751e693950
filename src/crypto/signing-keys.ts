/**
 * Signing keys of the OpenID provider (and later of issued credentials): generated here, stored sealed under a
 * KEK-derived key, published as public JWKs. Rotation puts new keys first (they sign) and keeps the retired ones
 * after them for a while (they still verify), so tokens already out stay verifiable without downtime.
 */
import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import { open, seal, type Keyring } from './envelope.ts';
import { withTransaction } from '../store/db.ts';

type SigningAlg = 'RS256' | 'ES256';
const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'ES256'];
/** How long a retired key is still published for verification. */
export const RETIRED_KEY_RETENTION_DAYS = 30;

export interface PrivateJwk extends JsonWebKey {
  kid: string;
  alg: SigningAlg;
  use: 'sig';
}

function generate(alg: SigningAlg): PrivateJwk {
  const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  // RFC 7638-style: the kid is derived from the public part, so it identifies the key wherever it is published.
  const pub = alg === 'RS256' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  const kid = createHash('sha256').update(JSON.stringify(pub)).digest('base64url').slice(0, 22);
  return { ...jwk, kid, alg, use: 'sig' };
}

async function insertKeys(db: Queryable, keyring: Keyring, algs: readonly SigningAlg[]): Promise<void> {
  const key = keyring.derive('signing-keys');
  for (const alg of algs) {
    const jwk = generate(alg);
    await db('signing_keys').insert({
      kid: jwk.kid,
      alg,
      private_jwk: seal(key, JSON.stringify(jwk), `signing_keys:${jwk.kid}`),
      state: 'active',
    });
  }
}

/** The private JWKs the provider signs and verifies with: active keys first, then retired ones still kept. */
export async function loadSigningKeys(db: Queryable, keyring: Keyring): Promise<PrivateJwk[]> {
  await withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [0x4b455953]);
    const active = await trx('signing_keys').where({ state: 'active' }).select('alg');
    const missing = SIGNING_ALGS.filter((alg) => !active.some((r: { alg: string }) => r.alg === alg));
    if (missing.length > 0) await insertKeys(trx, keyring, missing);
  });
  const key = keyring.derive('signing-keys');
  const rows = (await db('signing_keys')
    .where({ state: 'active' })
    .orWhere((q) => q.where({ state: 'retired' }).andWhere('retired_at', '>', db.raw(`now() - interval '${RETIRED_KEY_RETENTION_DAYS} days'`)))
    .orderByRaw(`case state when 'active' then 0 else 1 end`)
    .orderBy('created_at', 'desc')) as { kid: string; private_jwk: Uint8Array }[];
  return rows.map((r) => JSON.parse(open(key, Buffer.from(r.private_jwk), `signing_keys:${r.kid}`).toString('utf8')));
}

/**
 * Retires the active keys and creates new ones; returns the new kids. Restart (or reload) the provider after.
 * Refuses (DecryptionError) when the keyring does not open the keys already stored: new keys sealed under another
 * KEK would stop the server at its next start.
 */
export async function rotateSigningKeys(db: Queryable, keyring: Keyring): Promise<string[]> {
  return withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [0x4b455953]);
    const key = keyring.derive('signing-keys');
    const active = (await trx('signing_keys').where({ state: 'active' }).select('kid', 'private_jwk')) as { kid: string; private_jwk: Uint8Array }[];
    for (const r of active) open(key, Buffer.from(r.private_jwk), `signing_keys:${r.kid}`);
    await trx('signing_keys').where({ state: 'active' }).update({ state: 'retired', retired_at: trx.fn.now() });
    await insertKeys(trx, keyring, SIGNING_ALGS);
    return (await trx('signing_keys').where({ state: 'active' }).pluck('kid')) as string[];
  });
}

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  state: 'active' | 'retired';
  created_at: Date;
  retired_at: Date | null;
  /** Whether the provider loads it at start: active keys sign, retired ones within retention only verify. */
  published: boolean;
}

/** Every stored signing key, newest first, without its private part. */
export async function listSigningKeys(db: Queryable): Promise<SigningKeyInfo[]> {
  const rows = (await db('signing_keys')
    .select('kid', 'alg', 'state', 'created_at', 'retired_at', {
      published: db.raw(`state = 'active' or retired_at > now() - interval '${RETIRED_KEY_RETENTION_DAYS} days'`),
    })
    .orderBy('created_at', 'desc')
    .orderBy('alg')) as SigningKeyInfo[];
  return rows.map((r) => ({ ...r, published: Boolean(r.published) }));
}

/** Public parts only, for publishing. */
function publicJwk(jwk: PrivateJwk): JsonWebKey {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  void d, p, q, dp, dq, qi;
  return pub;
}
