/**
 * The OpenID provider (oidc-provider v9), mounted at /oidc. Authorization code with PKCE for every client,
 * rotating refresh tokens, client credentials, revocation, introspection, resource indicators for the data API,
 * RP-initiated and back-channel logout. What a service may learn about a person is never decided here: claims come
 * from the policy engine through `AccountClaims`.
 */
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Keyring } from '../crypto/envelope.ts';
import { hashToken, safeEqual } from '../crypto/tokens.ts';
import type { PrivateJwk } from '../crypto/signing-keys.ts';
import type { Queryable } from '../store/db.ts';
import { createAdapterClass } from './adapter.ts';
import { DPOP_SIGNING_ALGS } from './dpop.ts';
import { renderPage, escapeHtml } from './pages.ts';
import { pairwiseSubject } from './subjects.ts';

/** The path of the data API resource (RFC 8707 resource indicator), under BASE_URL. */
export const DATA_RESOURCE_PATH = '/api/v1/data';
export const STANDARD_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'address', 'phone'] as const;

export const TTL = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  ClientCredentials: 10 * 60,
  IdToken: 60 * 60,
  Interaction: 30 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Session: 24 * 60 * 60,
  // A grant lasts until its person revokes it (or a year passes without renewal).
  Grant: 365 * 24 * 60 * 60,
  DeviceCode: 10 * 60,
  BackchannelAuthenticationRequest: 10 * 60,
  PreAuthorizedCode: 10 * 60,
} as const;

/** What the provider asks the rest of Ringfence about people: always answered by the policy engine. */
export interface AccountClaims {
  /** Every scope the provider supports, beyond the standard ones (`ring:semi-private`, …). */
  extraScopes(): string[];
  /** scope → claim names, for the provider's claims masking. */
  scopeClaims(): Record<string, string[]>;
  /** Whether the account exists and may sign in to services. */
  accountExists(accountId: string): Promise<boolean>;
  /**
   * The claims a service may receive about the account under its grant and the token's scopes, at userinfo: a
   * release of the disclosure pipeline, audited and admitted (refused when the grant is gone by then).
   */
  claimsFor(
    accountId: string,
    release: { clientId: string; grantId: string; scopes: readonly string[]; use: string; clientIp: string },
  ): Promise<Record<string, unknown>>;
}

export interface ProviderOptions {
  config: Config;
  db: Queryable;
  keyring: Keyring;
  keys: PrivateJwk[];
  claims: AccountClaims;
}

/** Keys signing the provider's cookies: derived from the KEK, so every instance agrees and rotation follows it. */
export function cookieKeys(keyring: Keyring): string[] {
  return [keyring.derive('oidc-cookies').toString('base64url')];
}

/** The OpenID provider's issuer: the `iss` of its ID tokens, and so of the subjects it names (pairwise or public). */
export function oidcIssuer(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}/oidc`;
}

export function dataResource(config: Config): string {
  return `${config.baseUrl}${DATA_RESOURCE_PATH}`;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The provider's outgoing requests (back-channel logout). oidc-provider refuses special-use addresses (SSRF guard);
 * outside production a service may run on this machine — registration allows plain http to loopback for that
 * (RFC 8252) — so a loopback URL goes out without the guard there. Everything else keeps it.
 */
function outgoingFetch(config: Config) {
  return (input: string | URL | Request, init: RequestInit & { dispatcher?: unknown } = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (config.env !== 'production' && LOOPBACK_HOSTS.has(url.hostname)) {
      const { dispatcher: _guard, ...rest } = init;
      return fetch(input, rest);
    }
    return fetch(input, init);
  };
}

type ResponseModeHandler = Parameters<Provider['registerResponseMode']>[1];

/**
 * The form_post response mode's page (OAuth 2.0 Form Post Response Mode) is a form that a script submits to the
 * service's redirect URI. The CSP every response carries allows forms to this origin only (form-action 'self'),
 * which would stop that form in a browser: on this one answer, form-action also allows the redirect URI's origin,
 * the URI the provider has just checked against the service's registration. (The provider already adds its
 * script's hash to script-src.)
 */
function allowFormPostTarget(handler: ResponseModeHandler): ResponseModeHandler {
  return async function formPost(this: unknown, ctx, redirectUri, payload) {
    await handler.call(this, ctx, redirectUri, payload);
    const target = new URL(redirectUri);
    // An origin has no spaces or semicolons to end the directive early; a URI with an opaque origin gets its scheme.
    const source = target.origin === 'null' ? target.protocol : target.origin;
    const policy = ctx.response.get('content-security-policy');
    if (policy) {
      ctx.set(
        'content-security-policy',
        policy
          .split(';')
          .map((d) => (d.trim().split(/\s+/)[0] === 'form-action' ? `form-action 'self' ${source}` : d))
          .join(';'),
      );
    }
  };
}

/** oidc-provider registers its response modes as it is constructed: the form_post one is wrapped on the way. */
class RingfenceProvider extends Provider {
  override registerResponseMode(name: string, handler: ResponseModeHandler): void {
    super.registerResponseMode(name, name === 'form_post' ? allowFormPostTarget(handler) : handler);
  }
}

export function createProvider({ config, db, keyring, keys, claims }: ProviderOptions): Provider {
  const resource = dataResource(config);
  const secure = config.baseUrl.startsWith('https:');

  const configuration: Configuration = {
    adapter: createAdapterClass(db),
    fetch: outgoingFetch(config),
    jwks: { keys: keys as never },
    cookies: {
      keys: cookieKeys(keyring),
      long: { httpOnly: true, sameSite: 'lax', secure, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
    },
    scopes: [...STANDARD_SCOPES, ...claims.extraScopes()],
    claims: { openid: ['sub'], ...claims.scopeClaims() },
    responseTypes: ['code'],
    // Pairwise subjects per service (src/oidc/subjects.ts): the same one in ID tokens, userinfo, introspection,
    // logout tokens, the data API, documents and events.
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) => pairwiseSubject(keyring, client.clientId, accountId),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    // Secrets are stored hashed, so nothing may use them as an HMAC key: asymmetric signatures only.
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
      // What the token endpoint and the data API both accept for DPoP proofs (src/oidc/dpop.ts).
      dPoPSigningAlgValues: [...DPOP_SIGNING_ALGS],
    },
    pkce: { required: () => true },
    ttl: { ...TTL },
    rotateRefreshToken: true,
    // The provider's rule (a code without offline_access ends with the session), unchanged. This is also the one
    // hook that sees the authorization request and its code before the code is saved: a `resource` the service
    // sent itself (a string; a defaulted one is an array, see defaultResource) is marked by keeping the code's
    // `resource` as an array of it, which every grant after it inherits and useGrantedResource reads.
    async expiresWithSession(ctx, code) {
      const requested = (ctx.oidc.params as { resource?: unknown } | undefined)?.resource;
      const token = code as { kind?: string; resource?: unknown };
      if (token.kind === 'AuthorizationCode' && typeof requested === 'string' && token.resource === requested) {
        token.resource = [requested];
      }
      return !code.scopes.has('offline_access');
    },
    async issueRefreshToken(_ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A service learns about its own tokens only: another service's token is inactive to it (RFC 7662 §2.2
      // leaves who may ask to the server; the provider's default lets any confidential client ask about any token).
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      revocation: {
        enabled: true,
        // Another service's token is left alone, and the answer is the 200 an unknown token gets (RFC 7009 §2.2):
        // an error here would tell a service that a token it found is live, and whose it is.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = renderPage(ctx, {
            title: 'Sign out',
            formAction: null,
            body: `<h1>Sign out of Ringfence?</h1>${form}
<p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></p>`,
          });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = renderPage(ctx, { title: 'Signed out', body: '<h1>You are signed out</h1>' });
        },
      },
      resourceIndicators: {
        enabled: true,
        // The data API is the only resource: an authorization request that names none is for it, so a later
        // refresh with `resource=` can ask for a data API token. Defaulted, it is the array `[resource]`: the
        // request's parameters (kept in the interaction) then tell a defaulted resource from one the service sent
        // itself, a string, which `expiresWithSession` marks on the code (below). At the token endpoint the only
        // choice offered is among granted resources (`oneOf`), i.e. this one.
        defaultResource: async (_ctx, _client, oneOf) => (oneOf ? (oneOf.includes(resource) ? resource : oneOf) : [resource]),
        // A service that sent `resource` at the authorization request gets its token for that resource at the code
        // exchange (and at refreshes) without repeating it, as openid-client and most clients do by default; one
        // that did not gets a userinfo token there, as before (OpenID Connect's default), and asks for a data API
        // token with `resource=`. The mark is the code's `resource` kept as an array (see expiresWithSession).
        useGrantedResource: async (_ctx, model) => Array.isArray((model as { resource?: unknown }).resource),
        async getResourceServerInfo(_ctx, indicator, client) {
          if (indicator !== resource) throw new errors.InvalidTarget(`the only resource is ${resource}`);
          const allowed = (client.scope ?? '').split(' ').filter((s) => s && s !== 'openid' && s !== 'offline_access');
          return {
            scope: allowed.join(' '),
            audience: resource,
            accessTokenFormat: 'opaque',
            accessTokenTTL: TTL.AccessToken,
          };
        },
      },
    },
    async findAccount(ctx, sub, token) {
      if (!(await claims.accountExists(sub))) return undefined;
      return {
        accountId: sub,
        async claims(use, scope) {
          // ID tokens carry the subject only: the provider would mask profile claims out of most of them anyway
          // (conformIdTokenClaims), and a release must be audited exactly when it happens. Services read profile
          // fields at userinfo or the data API.
          if (use === 'id_token') return { sub };
          const clientId = token?.clientId ?? ctx.oidc.client?.clientId;
          // A release needs its basis: the grant the token was issued under (userinfo's access token names it).
          const grantId = (token as { grantId?: unknown } | undefined)?.grantId;
          if (!clientId || typeof grantId !== 'string') return { sub };
          return { ...(await claims.claimsFor(sub, { clientId, grantId, scopes: scope.split(' ').filter(Boolean), use, clientIp: ctx.ip })), sub };
        },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = renderPage(ctx, {
        title: 'Something went wrong',
        body: `<h1>This request could not be completed</h1>
<p>${escapeHtml(String(out.error_description ?? out.error ?? 'unknown error'))}</p>
<p>Return to the service you came from and try again.</p>`,
      });
    },
  };

  const provider = new RingfenceProvider(oidcIssuer(config), configuration);
  provider.proxy = false;

  // Client secrets are stored as SHA-256 hashes; compare the hash of the presented secret (the maintainer's
  // suggested extension point for one-way hashed secrets, panva/node-oidc-provider#631).
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return Promise.resolve(typeof this.clientSecret === 'string' && safeEqual(this.clientSecret, hashToken(actual)));
  } as never;

  return provider;
}

export type { Provider };
