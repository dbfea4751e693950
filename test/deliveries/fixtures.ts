import { randomBytes } from 'node:crypto';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import type { TestApp } from '../helpers/app.ts';
import { dataResource } from '../helpers/oidc.ts';

/**
 * A grant as the provider stores it, as a consent would leave it: the data API's `scope` (default `address`), saved
 * through the provider's adapter (which also counts the person's grants changed); its id.
 */
export async function storeGrant(
  a: TestApp,
  userId: string,
  clientId: string,
  scope = 'address',
  openid = 'openid',
  expiresIn = 3600,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const id = randomBytes(32).toString('base64url').slice(0, 43);
  const Adapter = createAdapterClass(a.service.deps.db);
  await new Adapter('Grant').upsert(
    id,
    {
      iat: now,
      exp: now + expiresIn,
      jti: id,
      kind: 'Grant',
      accountId: userId,
      clientId,
      openid: { scope: openid },
      resources: { [dataResource(a)]: scope },
    },
    expiresIn,
  );
  return id;
}
