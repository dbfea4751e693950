import { Reply, type Handler } from '../../deps.ts';
import { DPOP_SIGNING_ALGS } from '../../oidc/dpop.ts';
import { dataResource } from '../../oidc/provider.ts';
import { supportedScopes } from '../../oidc/scopes.ts';

/**
 * The data API's protected resource metadata (RFC 9728), where a client looks for it from the resource identifier.
 * A plain JSON object (a Reply), as the RFC defines it: no `status` member.
 */
export const getProtectedResourceMetadata: Handler = (_input, deps) => {
  const scopes = [...supportedScopes(deps.policy.policies)].filter((s) => s !== 'openid' && s !== 'offline_access');
  return new Reply(
    {
      resource: dataResource(deps.config),
      resource_name: 'Ringfence data API',
      authorization_servers: [`${deps.config.baseUrl}/oidc`],
      scopes_supported: scopes,
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
      // Bearer tokens stay accepted; a token the provider bound to a key is accepted only with its proof.
      dpop_bound_access_tokens_required: false,
      resource_documentation: `${deps.config.baseUrl}/docs`,
    },
    { type: 'application/json', headers: { 'Cache-Control': 'no-cache' } },
  );
};
