/**
 * Assembles the OpenID provider and what its flows need: signing keys from the store, consent previews and
 * userinfo claims from the policy engine (userinfo releases through the disclosure pipeline), and what it asks of
 * the people who sign in from the accounts feature, injected where the service is assembled (OidcAccounts).
 *
 * oidc-provider takes its keys once, when it is constructed, and has no way to replace them (its maintainer: a
 * running provider's keystore is not meant to change, a restart is the intended mode; panva/node-oidc-provider#651).
 * All of its state is in the store (src/oidc/adapter.ts) and its cookie keys derive from the KEK, so a provider built
 * afresh from the same configuration is the same provider: when the signing keys change (a rotation published, a key activated or
 * retired, on this instance or another) or the policy's scopes do, a new one is built and takes the next request,
 * while requests already in the old one finish there.
 */
import { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Keyring } from '../crypto/envelope.ts';
import { liveSigningKeys, providerJwks } from '../crypto/signing-keys.ts';
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
  /** The provider in use now: read it for each request, never keep it (it is rebuilt on a change of keys). */
  readonly provider: Provider;
  /** Reads the signing keys again (a change notice, the poll); builds a new provider if they changed. */
  refreshKeys(): Promise<void>;
  /** Builds a new provider from the policy now loaded (its scopes and claims), after a policy reload. */
  rebuild(): void;
  /** Stops following the keys. */
  close(): void;
  /** Per requested scope, the fields it would release to this service for this person now (the consent page). */
  previewConsent(accountId: string, clientId: string, scopes: readonly string[]): Promise<ScopePreview[]>;
  /** The user id for a login (e-mail or handle) and password, or undefined; throttled like the login API. */
  authenticate(login: string, password: string, clientIp: string): Promise<string | undefined>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function createOidc(deps: OidcAssembly): Promise<OidcDeps> {
  const standard = new Set<string>(STANDARD_SCOPES);

  const claims: AccountClaims = {
    // Read when a provider is built: the policy in force then (deps.policy follows reloads).
    extraScopes: () => [...supportedScopes(deps.policy.policies)].filter((s) => !standard.has(s)),
    scopeClaims: () => scopeClaims(deps.policy.policies),
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
          companions: (values) => companionsOf(deps.policy.engine, deps.policy.engine.claimsOf(values), () => deps.accounts.emailVerified(accountId)),
        });
        return { ...deps.policy.engine.claimsOf(released.values), ...released.companions };
      } catch (err) {
        // The provider answers it as it answers a revoked token: 401 invalid_token, with its challenge.
        if (err instanceof Unauthenticated) throw new errors.InvalidToken(err.message);
        throw err;
      }
    },
  };

  const signingKeys = await liveSigningKeys(deps.db, deps.keyring).open();
  const build = () => {
    const built = createProvider({ config: deps.config, db: deps.db, keyring: deps.keyring, keys: providerJwks(signingKeys.loaded), claims });
    built.on('server_error', (_ctx, err) => deps.logger.error({ err }, 'oidc provider error'));
    return built;
  };
  let provider = build();
  signingKeys.onChange((keys) => {
    provider = build();
    deps.logger.info(
      { keys: keys.map((k) => ({ kid: k.jwk.kid, alg: k.jwk.alg, state: k.state, activates_at: k.activatesAt.toISOString() })) },
      'the signing keys changed: the provider publishes and signs with them from now on',
    );
  });

  return {
    get provider() {
      return provider;
    },
    refreshKeys: () => signingKeys.refresh(),
    rebuild() {
      provider = build();
    },
    close: () => signingKeys.close(),
    previewConsent: (accountId, clientId, scopes) => previewConsent(deps, accountId, clientId, scopes),
    authenticate: (login, password, clientIp) => deps.accounts.authenticate(login, password, clientIp),
  };
}
