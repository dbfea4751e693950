/**
 * The scopes the provider offers, from policies/scopes.yaml and the default rings: the standard OIDC ones, the
 * policy's own (`age`, `health`, …), and `ring:<name>` for each ring a scope may name. Which fields a scope
 * releases to whom is the engine's decision; this module only names them for the provider.
 */
import { COMPANION_CLAIMS } from '../policy/claims.ts';
import type { Policies } from '../policy/load.ts';

export { COMPANION_CLAIMS };

const RING_SCOPE_PREFIX = 'ring:';

function withCompanions(claims: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const claim of claims) {
    out.add(claim);
    if (COMPANION_CLAIMS[claim]) out.add(COMPANION_CLAIMS[claim]);
  }
  return [...out];
}
const PROTOCOL_SCOPES = ['openid', 'offline_access'] as const;

export function supportedScopes(policies: Policies): Set<string> {
  return new Set<string>([...PROTOCOL_SCOPES, ...policies.scopes.keys(), ...[...policies.ringScopes].map((r) => `${RING_SCOPE_PREFIX}${r}`)]);
}

/** A person-readable line for each scope, for the consent page. */
export function describeScope(policies: Policies, scope: string): string {
  if (scope === 'openid') return 'Sign you in with Ringfence (your subject identifier only)';
  if (scope === 'offline_access') return 'Keep access while you are away, until you revoke it';
  if (scope.startsWith(RING_SCOPE_PREFIX)) {
    const ring = scope.slice(RING_SCOPE_PREFIX.length);
    return `Everything you placed in the ${ring} ring or a more open one, as far as its role allows`;
  }
  return policies.scopes.get(scope)?.description ?? scope;
}

/**
 * scope → the OIDC claims it may carry, for the provider's own masking of ID tokens and userinfo. Ring scopes may
 * carry any claimed field (which ones depends on the person's rings, decided per request by the engine). A scope
 * that may carry a claim may carry its companion (COMPANION_CLAIMS).
 */
export function scopeClaims(policies: Policies): Record<string, string[]> {
  const claimOf = (leaf: string) => policies.fields.get(policies.leafField.get(leaf) ?? '')?.claim;
  const out: Record<string, string[]> = {};
  for (const [name, def] of policies.scopes) {
    if (name === 'openid') continue;
    out[name] = withCompanions([...def.claims, ...[...def.leaves].map(claimOf).filter((c): c is string => Boolean(c))]);
  }
  const all = withCompanions([...policies.fields.values()].map((f) => f.claim).filter((c): c is string => Boolean(c)));
  for (const ring of policies.ringScopes) out[`${RING_SCOPE_PREFIX}${ring}`] = all;
  return out;
}
