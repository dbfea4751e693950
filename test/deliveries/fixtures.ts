import { randomBytes } from 'node:crypto';
import type { TestApp } from '../helpers/app.ts';
import { dataResource } from '../helpers/oidc.ts';

/** A grant as the provider stores it, as a consent would leave it: the data API's `scope` (default `address`). */
export async function storeGrant(a: TestApp, userId: string, clientId: string, scope = 'address'): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  await a.service.deps.db('oidc_payloads').insert({
    kind: 'Grant',
    id: randomBytes(32).toString('base64url').slice(0, 43),
    account_id: userId,
    client_id: clientId,
    expires_at: new Date((now + 3600) * 1000),
    payload: JSON.stringify({
      iat: now,
      exp: now + 3600,
      kind: 'Grant',
      accountId: userId,
      clientId,
      openid: { scope: 'openid' },
      resources: { [dataResource(a)]: scope },
    }),
  });
}
