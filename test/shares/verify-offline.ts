import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';

/** Verifies a Ringfence share offline: its signature, audience, expiry and disclosures, and its status bit. */
export async function verifyShare(token: string, jwks: JSONWebKeySet, statusListJwt: string, audience: string) {
  const [jwt, ...disclosures] = token.split('~').filter(Boolean);
  const keys = createLocalJWKSet(jwks);
  const { payload } = await jwtVerify<{ _sd: string[]; status: { status_list: { idx: number; uri: string } } }>(jwt, keys, {
    typ: 'dc+sd-jwt',
    audience,
  });
  const claims: Record<string, unknown> = {};
  for (const d of disclosures) {
    if (!payload._sd.includes(createHash('sha256').update(d).digest('base64url'))) throw new Error('a disclosure the issuer did not sign');
    const [, name, value] = JSON.parse(Buffer.from(d, 'base64url').toString());
    claims[name] = value;
  }
  const { idx, uri } = payload.status.status_list;
  const { payload: list } = await jwtVerify<{ status_list: { lst: string } }>(statusListJwt, keys, { typ: 'statuslist+jwt', subject: uri });
  const bits = inflateSync(Buffer.from(list.status_list.lst, 'base64url'));
  return { claims, revoked: ((bits[idx >> 3] >> (idx & 7)) & 1) === 1 };
}
