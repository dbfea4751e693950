/** Fixtures of the rings tests: the grants people gave services, as the provider stores them, and stored rings. */
import { randomUUID } from 'node:crypto';
import type { TestApp } from '../helpers/app.ts';

export const RINGS = '/api/v1/profile/privilege-rings';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A live grant of `scopes` from a person to a service, as oidc-provider's adapter keeps it. */
export async function addGrant(app: TestApp, userId: string, clientId: string, scopes: string[]): Promise<void> {
  const id = randomUUID();
  await app.service.deps.db('oidc_payloads').insert({
    kind: 'Grant',
    id,
    payload: JSON.stringify({
      jti: id,
      kind: 'Grant',
      accountId: userId,
      clientId,
      openid: { scope: scopes.join(' ') },
      iat: Math.floor(Date.now() / 1000),
    }),
    account_id: userId,
    client_id: clientId,
    expires_at: new Date(Date.now() + 3600_000),
  });
}

/** Each field's stored ring for one profile. */
export async function storedRings(app: TestApp, profileId: string): Promise<Record<string, string>> {
  const rows = (await app.service.deps.db('profile_fields').where({ profile_id: profileId }).select('field', 'ring')) as {
    field: string;
    ring: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.field, r.ring]));
}
