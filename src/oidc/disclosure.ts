/**
 * What a service may learn about a person, always decided by the policy engine: the service's role ceiling and
 * rules, the person's rings (custom rings that admit this service included), and the scopes still granted.
 */
import type { AppDeps, Disclosure } from '../http/types.ts';
import { CUSTOM_PREFIX, type Reader, type UserRings } from '../policy/engine.ts';
import { readUserRings } from '../features/rings/rings.repo.ts';
import { valuesFromSnapshot } from '../features/profile/profile.ts';
import { readProfileSnapshot, type ProfileSnapshot } from '../features/profile/profile.repo.ts';
import { findUserById } from '../features/accounts/accounts.repo.ts';
import { COMPANION_CLAIMS, describeScope } from './scopes.ts';
import { findService } from './services.ts';

function jsonList(value: unknown): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : ((value as string[] | null) ?? []);
}

/**
 * The person's ring settings from a snapshot: what readUserRings builds from the same rows. Built only when the
 * policy engine compiles an ability (a cache miss): a cached one is found by the person and the rings' version.
 */
function ringsOf(userId: string, snapshot: ProfileSnapshot): UserRings {
  let built: Pick<UserRings, 'placements' | 'custom'> | undefined;
  const build = () => {
    const placements = new Map(snapshot.fields.map((f) => [f.field, f.ring]));
    return {
      placements: Object.fromEntries(placements),
      custom: snapshot.customRings.map((r) => ({
        id: r.id,
        name: r.name,
        ...(r.description ? { description: r.description } : {}),
        fields: [...placements].filter(([, ring]) => ring === `${CUSTOM_PREFIX}${r.id}`).map(([field]) => field),
        roles: jsonList(r.roles),
        services: jsonList(r.services),
      })),
    };
  };
  return {
    userId,
    version: snapshot.ringsVersion,
    get placements() {
      return (built ??= build()).placements;
    },
    get custom() {
      return (built ??= build()).custom;
    },
  };
}

/**
 * The fields (and values) released to `reader` under `scopes`, and the policy revision that allowed them. The
 * profile, its sealed fields and the person's rings come from one statement (or from `read`, when the request
 * already read them); the engine decides (its ability cache is keyed by the rings' version); only the released
 * fields are decrypted.
 */
export async function releaseFor(
  deps: AppDeps,
  reader: Extract<Reader, { kind: 'service' }>,
  accountId: string,
  scopes: readonly string[],
  read?: ProfileSnapshot,
): Promise<{ fields: Record<string, unknown>; policyRevision: string }> {
  const { engine } = deps.policy;
  const snapshot = read?.profile.user_id === accountId ? read : await readProfileSnapshot(deps.db, accountId);
  // Every person has a profile from registration on; without one there is nothing to release.
  if (!snapshot) return { fields: {}, policyRevision: engine.revision };
  const decision = engine.decide(reader, ringsOf(accountId, snapshot), { scopes });
  const values = valuesFromSnapshot(deps, snapshot, decision.fields.map((f) => f.split('.')[0]));
  return { fields: decision.project(values), policyRevision: decision.revision };
}

/**
 * The OIDC claims of released fields, as userinfo gives them: the catalogue's claim of each field, and with
 * `email` its companion `email_verified`, from the account's verification state: the policy engine decides which
 * companions go out (never `email_verified` without `email`), the account read here only gives their values.
 */
export async function claimsOfRelease(deps: AppDeps, accountId: string, fields: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const claims = deps.policy.engine.claimsOf(fields);
  if (deps.policy.engine.companionsOf(claims).length > 0) {
    const account = await findUserById(deps.db, accountId);
    Object.assign(claims, deps.policy.engine.companionClaims(claims, { emailVerified: Boolean(account?.email_verified_at) }));
  }
  return claims;
}

/** What the consent page lists for a companion claim (COMPANION_CLAIMS), after the field of its claim. */
const COMPANION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  email_verified: 'Whether you verified this e-mail address',
};

async function readerFor(deps: AppDeps, clientId: string): Promise<Extract<Reader, { kind: 'service' }> | undefined> {
  const service = await findService(deps.db, clientId);
  if (!service || service.disabled_at) return undefined;
  return { kind: 'service', clientId, role: service.role };
}

export function createDisclosure(deps: AppDeps): Disclosure {
  const { engine } = deps.policy;
  return {
    async preview(accountId, clientId, scopes) {
      const reader = await readerFor(deps, clientId);
      const rings = await readUserRings(deps.db, accountId);
      return scopes.map((scope) => {
        const decision = reader ? engine.decide(reader, rings, { scopes: [scope] }) : undefined;
        const { fields: catalogue } = deps.policy.policies;
        return {
          scope,
          description: describeScope(deps.policy.policies, scope),
          required: scope === 'openid',
          fields: (decision?.fields ?? []).flatMap((field) => {
            const def = catalogue.get(field.split('.')[0]);
            const companion = def?.claim && field === def.name ? COMPANION_CLAIMS[def.claim] : undefined;
            return [
              { field, description: def?.description ?? field },
              ...(companion ? [{ field: companion, description: COMPANION_DESCRIPTIONS[companion] ?? companion }] : []),
            ];
          }),
        };
      });
    },
    async release(accountId, clientId, scopes) {
      const reader = await readerFor(deps, clientId);
      if (!reader) return { fields: {}, policyRevision: engine.revision };
      return releaseFor(deps, reader, accountId, scopes);
    },
  };
}
