import { Reply, type Handler } from '../../deps.ts';
import { issuerJwks } from './shares.ts';

/** The issuer's public keys (a JWKS): what a verifier checks shares and status lists with, offline. */
export const getIssuerJwks: Handler = async (_input, deps) =>
  new Reply(await issuerJwks(deps), { type: 'application/jwk-set+json', headers: { 'Cache-Control': 'public, max-age=300' } });
