import { Reply, type Handler } from '../../deps.ts';
import { PUSH_DELIVERY } from '../../notify/security-events.ts';
import { issuerMetadata } from '../shares/shares.ts';

/**
 * The Shared Signals Framework's transmitter metadata: the issuer of every SET and the keys they are signed with (the
 * issuer keys, as for shares), pushed per RFC 8935. A plain JSON object.
 */
export const getSsfConfiguration: Handler = (_input, deps) =>
  new Reply(
    { spec_version: '1_0', ...issuerMetadata(deps), delivery_methods_supported: [PUSH_DELIVERY] },
    { type: 'application/json', headers: { 'Cache-Control': 'public, max-age=300' } },
  );
