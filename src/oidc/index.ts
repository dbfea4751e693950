/**
 * Assembles the OpenID provider and what its flows need: signing keys from the store, consent previews and
 * userinfo claims from the policy engine (userinfo releases through the disclosure pipeline), and what it asks of
 * the people who sign in from the accounts feature, injected where the service is assembled (OidcAccounts).
 */
import { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Keyring } from '../crypto/envelope.ts';
import { loadSigningKeys } from '../crypto/signing-keys.ts';
import type { Disclosure } from '../disclosure/release.ts';
import { Unauthenticated } from '../errors.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { Policies } from '../policy/load.ts';
import type { Db } from '../store/db.ts';
import { companionsOf, previewConsent, readerFor, type ScopePreview } from './claims.ts';
import { createProvider, STANDARD_SCOPES, type AccountClaims, type Provider } from './provider.ts';
import { scopeClaims, supportedScopes } from './scopes.ts';

/** What the provider asks the accounts feature about the people who sign in. */
export interface OidcAccounts {
  /** The user id for a login (e-mail or handle) and password, or undefined; throttled like the login API. */
  authenticate(login: string, password: string, clientIp: string): Promise<string | undefined>;
  /** Whether the account exists and may sign in to services. */
  exists(accountId: string): Promise<boolean>;
  /** Whether the person proved control of their e-mail address (userinfo's `email_verified`). */
  emailVerified(accountId: string): Promise<boolean>;
}

/** What the provider is assembled from. */
export interface OidcAssembly {
  config: Config;
  db: Db;
  keyring: Keyring;
  logger: Logger;
  policy: { policies: Policies; engine: PolicyEngine };
  disclosure: Disclosure;
  accounts: OidcAccounts;
}

/** The OpenID provider and what its flows need from the rest of Ringfence. */
export interface OidcDeps {
  provider: Provider;
  /** Per requested scope, the fields it would release to this service for this person now (the consent page). */
  previewConsent(accountId: string, clientId: string, scopes: readonly string[]): Promise<ScopePreview[]>;
  /** The user id for a login (e-mail or handle) and password, or undefined; throttled like the login API. */
  authenticate(login: string, password: string, clientIp: string): Promise<string | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function createOidc(deps: OidcAssembly): Promise<OidcDeps> {
  const { policies, engine } = deps.policy;
  const standard = new Set<string>(STANDARD_SCOPES);

  const claims: AccountClaims = {
    extraScopes: () => [...supportedScopes(policies)].filter((s) => !standard.has(s)),
    scopeClaims: () => scopeClaims(policies),
    accountExists: async (accountId) => UUID.test(accountId) && (await deps.accounts.exists(accountId)),
    async claimsFor(accountId, { clientId, grantId, scopes, use, clientIp }) {
      const reader = await readerFor(deps.db, clientId);
      if (!reader) return {};
      try {
        // Admitted like every release: a grant revoked since the provider found it live answers no claim.
        const released = await deps.disclosure.release({
          reader,
          subject: accountId,
          basis: { kind: 'grant', grantId, clientId, scopes },
          clientIp,
          via: use,
          record: 'if-released',
          companions: (values) => companionsOf(engine, engine.claimsOf(values), () => deps.accounts.emailVerified(accountId)),
        });
        return { ...engine.claimsOf(released.values), ...released.companions };
      } catch (err) {
        // The provider answers it as it answers a revoked token: 401 invalid_token, with its challenge.
        if (err instanceof Unauthenticated) throw new errors.InvalidToken(err.message);
        throw err;
      }
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
    previewConsent: (accountId, clientId, scopes) => previewConsent(deps, accountId, clientId, scopes),
    authenticate: (login, password, clientIp) => deps.accounts.authenticate(login, password, clientIp),
  };
}
