/** Fixtures of the rings tests: registered services and the grants people gave them, as the provider stores them. */
import { randomUUID } from 'node:crypto';
import type { TestApp } from '../helpers/app.ts';
import { registerService } from '../../src/oidc/services.ts';

export const RINGS = '/api/v1/profile/privilege-rings';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Registers a service of `role`; returns its client_id. */
export async function addService(app: TestApp, role: string, name = `${role} service`): Promise<string> {
  const { policies } = app.service.deps.policy;
  const { service } = await registerService(
    app.service.deps.db,
    { name, role, redirectUris: ['https://service.example/callback'] },
    new Set(policies.roles.keys()),
    new Set(policies.scopes.keys()),
  );
  return service.client_id;
}

/** A live grant of `scopes` from a person to a service, as oidc-provider's adapter keeps it. */
export async function addGrant(app: TestApp, userId: string, clientId: string, scopes: string[]): Promise<void> {
  const id = randomUUID();
  await app.service.deps.db('oidc_payloads').insert({
    kind: 'Grant',
    id,
    payload: JSON.stringify({ jti: id, kind: 'Grant', accountId: userId, clientId, openid: { scope: scopes.join(' ') }, iat: Math.floor(Date.now() / 1000) }),
    account_id: userId,
    client_id: clientId,
    expires_at: new Date(Date.now() + 3600_000),
  });
}

/** Each field's stored ring for one profile. */
export async function storedRings(app: TestApp, profileId: string): Promise<Record<string, string>> {
  const rows = (await app.service.deps.db('profile_fields').where({ profile_id: profileId }).select('field', 'ring')) as { field: string; ring: string }[];
  return Object.fromEntries(rows.map((r) => [r.field, r.ring]));
}
