/**
 * What a service is shown and told about a person, always decided by the policy engine: the consent page's
 * preview of each requested scope, and the OIDC claims of a release (src/disclosure) with their companions.
 */
import type { ServiceReader } from '../disclosure/release.ts';
import { readProfileSnapshot, ringsOf } from '../disclosure/snapshot.repo.ts';
import { NO_USER_RINGS, type PolicyEngine } from '../policy/engine.ts';
import type { Policies } from '../policy/load.ts';
import type { Queryable } from '../store/db.ts';
import { COMPANION_CLAIMS, describeScope } from './scopes.ts';
import { findService } from './services.ts';

/** What the consent page shows for one requested scope. */
export interface ScopePreview {
  scope: string;
  description: string;
  /** Fields this scope would release to this service for this person, as the engine decides now. */
  fields: { field: string; description: string }[];
  /** `openid` is required for sign-in; every other scope may be declined. */
  required: boolean;
}

interface ClaimsDeps {
  db: Queryable;
  policy: { policies: Policies; engine: PolicyEngine };
}

/** What the consent page lists for a companion claim (COMPANION_CLAIMS), after the field of its claim. */
const COMPANION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  email_verified: 'Whether you verified this e-mail address',
};

/** The service as a reader, or undefined when it is unknown or disabled. */
export async function readerFor(db: Queryable, clientId: string): Promise<ServiceReader | undefined> {
  const service = await findService(db, clientId);
  if (!service || service.disabled_at) return undefined;
  return { kind: 'service', clientId, role: service.role };
}

/** Per requested scope, the fields it would release to this service for this person now. */
export async function previewConsent(deps: ClaimsDeps, accountId: string, clientId: string, scopes: readonly string[]): Promise<ScopePreview[]> {
  const { engine, policies } = deps.policy;
  const reader = await readerFor(deps.db, clientId);
  const snapshot = await readProfileSnapshot(deps.db, accountId);
  const rings = snapshot ? ringsOf(snapshot) : NO_USER_RINGS;
  return scopes.map((scope) => {
    const decision = reader ? engine.decide(reader, rings, { scopes: [scope] }) : undefined;
    return {
      scope,
      description: describeScope(policies, scope),
      required: scope === 'openid',
      fields: (decision?.fields ?? []).flatMap((field) => {
        const def = policies.fields.get(field.split('.')[0]);
        const companion = def?.claim && field === def.name ? COMPANION_CLAIMS[def.claim] : undefined;
        return [
          { field, description: def?.description ?? field },
          ...(companion ? [{ field: companion, description: COMPANION_DESCRIPTIONS[companion] ?? companion }] : []),
        ];
      }),
    };
  });
}

/**
 * The companion claims of released claims, as userinfo gives them (`email_verified` with `email`): which go out is
 * the policy engine's decision; the account's verification state, read only when one does, gives their values.
 */
export async function companionsOf(
  engine: PolicyEngine,
  claims: Readonly<Record<string, unknown>>,
  emailVerified: () => Promise<boolean>,
): Promise<Record<string, unknown>> {
  if (engine.companionsOf(claims).length === 0) return {};
  return engine.companionClaims(claims, { emailVerified: await emailVerified() });
}
