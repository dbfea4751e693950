/**
 * What a service may learn about a person, always decided by the policy engine: the service's role ceiling and
 * rules, the person's rings (custom rings that admit this service included), and the scopes still granted.
 */
import type { AppDeps, Disclosure } from '../http/types.ts';
import type { Reader } from '../policy/engine.ts';
import { readUserRings } from '../features/rings/rings.repo.ts';
import { readValuesFor } from '../features/profile/profile.ts';
import { describeScope } from './scopes.ts';
import { findService } from './services.ts';


async function readerFor(deps: AppDeps, clientId: string): Promise<Reader | undefined> {
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
        return {
          scope,
          description: describeScope(deps.policy.policies, scope),
          required: scope === 'openid',
          fields: (decision?.fields ?? []).map((field) => ({
            field,
            description: deps.policy.policies.fields.get(field.split('.')[0])?.description ?? field,
          })),
        };
      });
    },
    async release(accountId, clientId, scopes) {
      const reader = await readerFor(deps, clientId);
      if (!reader) return { fields: {}, policyRevision: engine.revision };
      const rings = await readUserRings(deps.db, accountId);
      const decision = engine.decide(reader, rings, { scopes });
      const values = await readValuesFor(deps, accountId, decision.fields.map((f) => f.split('.')[0]));
      return { fields: decision.project(values), policyRevision: decision.revision };
    },
  };
}
