import { Reply, type Handler } from '../../deps.ts';
import { issuerMetadata } from './shares.ts';

/** SD-JWT VC issuer metadata: where a verifier finds the keys that sign shares. A plain JSON object. */
export const getJwtVcIssuerMetadata: Handler = (_input, deps) =>
  new Reply(issuerMetadata(deps), { type: 'application/json', headers: { 'Cache-Control': 'public, max-age=300' } });
