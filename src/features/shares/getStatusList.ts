import { createHash } from 'node:crypto';
import { Reply, type Handler } from '../../deps.ts';
import { statusListJwt } from './shares.ts';

/**
 * A Token Status List as a signed `statuslist+jwt`: cacheable for its ttl, with a weak ETag (a list re-signed with
 * the same bits under the same key is the same answer but for its `iat`), so a verifier may revalidate cheaply.
 */
export const getStatusList: Handler = async ({ params, headers }, deps) => {
  const { jwt, revision } = await statusListJwt(deps, params.list_id);
  const etag = `W/"${createHash('sha256').update(revision).digest('base64url').slice(0, 27)}"`;
  const cache = { ETag: etag, 'Cache-Control': `public, max-age=${deps.config.shareStatusTtlSeconds}` };
  const match = String(headers['if-none-match'] ?? '');
  if (match.split(',').some((t) => t.trim() === etag)) return new Reply(undefined, { status: 304, headers: cache });
  return new Reply(jwt, { type: 'application/statuslist+jwt', headers: cache });
};
