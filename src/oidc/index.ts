/**
 * Assembles the OpenID provider and what its flows need: signing keys from the store, claims and consent
 * previews from the policy engine (through the disclosure), and password checks from the accounts feature.
 */
import type { AppDeps, OidcDeps } from '../http/types.ts';
import { recordAudit } from '../audit/audit.ts';
import { loadSigningKeys } from '../crypto/signing-keys.ts';
import { authenticateLogin } from '../features/accounts/accounts.ts';
import { findUserById } from '../features/accounts/accounts.repo.ts';
import { claimsOfRelease, createDisclosure } from './disclosure.ts';
import { createProvider, STANDARD_SCOPES, type AccountClaims } from './provider.ts';
import { COMPANION_CLAIMS, scopeClaims, supportedScopes } from './scopes.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function createOidc(deps: Omit<AppDeps, 'oidc'>): Promise<OidcDeps> {
  const full = deps as AppDeps;
  const { policies } = deps.policy;
  const disclosure = createDisclosure(full);
  const standard = new Set<string>(STANDARD_SCOPES);

  const claims: AccountClaims = {
    extraScopes: () => [...supportedScopes(policies)].filter((s) => !standard.has(s)),
    scopeClaims: () => scopeClaims(policies),
    accountExists: async (accountId) => UUID.test(accountId) && Boolean(await findUserById(deps.db, accountId)),
    async claimsFor(accountId, clientId, scopes, use, clientIp) {
      const released = await disclosure.release(accountId, clientId, scopes);
      const out = await claimsOfRelease(full, accountId, released.fields);
      // What was released: the fields, and the companion claims that went with them.
      const companions = Object.values(COMPANION_CLAIMS).filter((claim) => claim in out);
      if (Object.keys(out).length > 0) {
        await recordAudit(deps.db, {
          action: 'data.released',
          actor: `service:${clientId}`,
          subject: `user:${accountId}`,
          clientIp,
          data: { client_id: clientId, via: use, fields: [...Object.keys(released.fields), ...companions].sort(), policy_revision: released.policyRevision },
        });
      }
      return out;
    },
  };

  const provider = createProvider({
    config: deps.config,
    db: deps.db,
    keyring: deps.keyring,
    keys: await loadSigningKeys(deps.db, deps.keyring),
    claims,
  });
  provider.on('server_error', (_ctx, err) => deps.logger.error({ err }, 'oidc provider error'));

  return {
    provider,
    disclosure,
    authenticate: async (login, password, clientIp) => (await authenticateLogin(full, login, password, clientIp))?.id,
  };
}
