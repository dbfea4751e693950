/**
 * The data API as an OAuth resource server: resolves a service's access token to the grant it was issued under.
 * The token must be live, issued for this resource, under a grant that still exists, by a service still enabled:
 * revoking the grant (or disabling the service) refuses the very next request, whatever the token's expiry. The
 * data API exists to read the person's profile, so the same statement reads it too, and the resolver hands it to
 * the request beside the caller (ResolvedService.snapshot).
 * A token the provider bound to a DPoP key (RFC 9449) is accepted only as `Authorization: DPoP` with a valid proof
 * by that key (src/oidc/dpop.ts), never as Bearer; a Bearer token pays nothing for this but one field check.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import type { Config } from '../config.ts';
import { profileSnapshotFrom, type ProfileSnapshot } from '../disclosure/snapshot.repo.ts';
import { InsufficientScope, InvalidToken, Unauthenticated } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { readStored, storedId } from './adapter.ts';
import { invalidDpopToken, invalidProof, rememberProof, verifyDpopProof, type DpopProof } from './dpop.ts';
import { findKnownTokenGrantAndProfile, findTokenGrantAndProfile, type KnownTokenRow, type TokenRefs } from './grants.repo.ts';
import { dataResource } from './provider.ts';

/** A service reading through the data API: its role, and the grant and person its access token names. */
export interface ServiceCaller {
  kind: 'service';
  clientId: string;
  role: string;
  /** How the service sees people (`pairwise` or `public`): src/oidc/subjects.ts. */
  subjectType: string;
  grantId?: string;
  accountId?: string;
  scopes: string[];
}

/** What resolving a service's access token needs. */
export interface ResourceDeps {
  db: Db;
  config: Config;
  oidc: { provider: Provider };
}

/**
 * The caller a token resolves to, and the person's profile as read in the same statement (for the handler of the
 * same request to release from: src/disclosure), when the token is for a person with one.
 */
export interface ResolvedService {
  caller: ServiceCaller;
  credential: string;
  snapshot?: ProfileSnapshot;
}

/**
 * What a model's static `find` does after the adapter answered (oidc-provider lib/models/base_model.js): verify
 * the stored payload, then instantiate the model; undefined when verification fails.
 */
interface StoredModel<T> {
  verify(stored: AdapterPayload, options?: { ignoreExpiration?: boolean }): Promise<AdapterPayload>;
  instantiate(payload: AdapterPayload): T;
}

async function fromStored<T>(model: unknown, stored: AdapterPayload): Promise<T | undefined> {
  const m = model as StoredModel<T>;
  if (typeof m.verify !== 'function' || typeof m.instantiate !== 'function') {
    throw new Error('oidc-provider models no longer have static verify/instantiate: update src/oidc/resource.ts');
  }
  try {
    return m.instantiate(await m.verify(stored));
  } catch {
    return undefined;
  }
}

/** The access token and the scheme it came with: `Bearer`, or `DPoP` (RFC 9449 §7.1). */
function credentialOf(ctx: Context): { scheme: 'Bearer' | 'DPoP'; token: string } | undefined {
  const header = ctx.get('authorization');
  if (!header) return undefined;
  const match = /^(Bearer|DPoP)\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!match) {
    throw new InvalidToken('send the access token as "Authorization: Bearer <token>", or as "Authorization: DPoP <token>" with a DPoP proof');
  }
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

/**
 * What a verified access token says, as its requests use it. A token's payload never changes once issued, so it is
 * verified (the provider's own verify and instantiate) on its first request only; every request still reads whether
 * the token is stored — a revoked token is gone — and everything that can change (grant, service, profile).
 */
interface KnownToken extends TokenRefs {
  /** Expiry, seconds since the epoch. */
  exp: number;
  scopes: readonly string[];
  audience: readonly string[];
  /** The DPoP key's thumbprint a bound token names (RFC 9449). */
  jkt: string | undefined;
}

/** Verified tokens kept per provider (so per database): at most this many, the oldest dropped first. */
const KNOWN_TOKENS_MAX = 10_000;
const knownTokens = new WeakMap<object, Map<string, KnownToken>>();

/** The known token stored under `key` (the hash of its value), while it has not expired. */
function knownToken(provider: object, key: string): KnownToken | undefined {
  const tokens = knownTokens.get(provider);
  const known = tokens?.get(key);
  if (known && known.exp <= Math.floor(Date.now() / 1000)) {
    tokens!.delete(key);
    return undefined;
  }
  return known;
}

function rememberToken(provider: object, key: string, known: KnownToken): void {
  let tokens = knownTokens.get(provider);
  if (!tokens) {
    tokens = new Map();
    knownTokens.set(provider, tokens);
  }
  tokens.set(key, known);
  while (tokens.size > KNOWN_TOKENS_MAX) tokens.delete(tokens.keys().next().value!);
}

function forgetToken(provider: object, key: string): void {
  knownTokens.get(provider)?.delete(key);
}

/** What a verified token model says, as KnownToken keeps it. */
function knownFrom(kind: KnownToken['kind'], token: { exp?: number; clientId?: string; scopes: Set<string>; aud?: unknown }): KnownToken {
  const { accountId, grantId, jkt } = token as { accountId?: unknown; grantId?: unknown; jkt?: unknown };
  return {
    kind,
    exp: token.exp ?? 0,
    clientId: token.clientId ?? '',
    accountId: typeof accountId === 'string' && accountId ? accountId : undefined,
    grantId: typeof grantId === 'string' && grantId ? grantId : undefined,
    scopes: [...token.scopes].filter((s): s is string => typeof s === 'string' && s !== ''),
    audience: (Array.isArray(token.aud) ? token.aud : [token.aud]).filter((a): a is string => typeof a === 'string'),
    jkt: typeof jkt === 'string' ? jkt : undefined,
  };
}

/** What the data API reads of a grant: who gave it to whom, until when, and what it grants for the data API. */
interface GrantFacts {
  jti: string | undefined;
  accountId: string | undefined;
  clientId: string | undefined;
  /** Expiry, seconds since the epoch (0: none). */
  exp: number;
  resource: string;
  /** The scopes granted for `resource` (Grant.getResourceScope: granted less rejected), space-separated. */
  scope: string;
}

/**
 * The last payload text seen per grant, with what the provider's own verify and instantiate made of it. A grant
 * can change (a new consent rewrites its scopes), so its payload is read on every request, and verified again
 * whenever its text is not exactly the one verified last; a grant no longer stored is refused before this.
 */
const GRANTS_MAX = 10_000;
const seenGrants = new WeakMap<object, Map<string, { text: string; facts: GrantFacts | undefined }>>();

async function grantFacts(
  provider: Provider,
  resource: string,
  grantId: string,
  text: string,
  consumedAt: Date | null,
): Promise<GrantFacts | undefined> {
  let grants = seenGrants.get(provider);
  if (!grants) {
    grants = new Map();
    seenGrants.set(provider, grants);
  }
  const seen = grants.get(grantId);
  let facts: GrantFacts | undefined;
  if (seen?.text === text && (seen.facts === undefined || seen.facts.resource === resource)) {
    facts = seen.facts;
  } else {
    const grant = await fromStored<InstanceType<typeof provider.Grant>>(
      provider.Grant,
      readStored('Grant', grantId, { payload: text, consumed_at: consumedAt }),
    );
    facts = grant && {
      jti: grant.jti,
      accountId: grant.accountId,
      clientId: grant.clientId,
      exp: typeof grant.exp === 'number' ? grant.exp : 0,
      resource,
      scope: grant.getResourceScope(resource) ?? '',
    };
    grants.delete(grantId);
    grants.set(grantId, { text, facts });
    while (grants.size > GRANTS_MAX) grants.delete(grants.keys().next().value!);
  }
  // The provider's verify refuses an expired payload; one seen before expires here.
  return facts && (facts.exp === 0 || facts.exp > Math.floor(Date.now() / 1000)) ? facts : undefined;
}

/**
 * What both schemes check of a token: live, issued for the data API, by a service still enabled, sent with the
 * scheme (and DPoP proof) it was bound to. Undefined without an Authorization header.
 */
async function liveToken(ctx: Context, deps: ResourceDeps) {
  const credential = credentialOf(ctx);
  if (!credential) return undefined;
  const { token: value, scheme } = credential;
  const { provider } = deps.oidc;
  // A request made with the DPoP scheme is answered with the DPoP challenge (RFC 9449 §7.1).
  const refused = (why: string, code = 'invalid_token') => (scheme === 'DPoP' ? invalidDpopToken(why, code) : new Unauthenticated(why, { code }));
  // The proof's own checks need no database: a bad proof costs no round trip.
  const proof: DpopProof | undefined = scheme === 'DPoP' ? await verifyDpopProof(ctx, value, deps.config.baseUrl) : undefined;

  // Both kinds are stored under the hash of the value (src/oidc/adapter.ts): one key, under either kind.
  const key = storedId('AccessToken', value);
  const cached = knownToken(provider, key);
  let known: KnownToken;
  let row: KnownTokenRow;
  if (cached) {
    known = cached;
    row = await findKnownTokenGrantAndProfile(deps.db, key, known);
    if (!row.token_live) {
      forgetToken(provider, key);
      throw refused('the access token is unknown or has been revoked');
    }
  } else {
    const found = await findTokenGrantAndProfile(deps.db, key);
    type Token = InstanceType<typeof provider.AccessToken> | InstanceType<typeof provider.ClientCredentials>;
    const model = found?.token_kind === 'ClientCredentials' ? provider.ClientCredentials : provider.AccessToken;
    const token = found
      ? await fromStored<Token>(model, readStored(found.token_kind, value, { payload: found.token_payload, consumed_at: found.token_consumed_at }))
      : undefined;
    if (!found || !token) throw refused('the access token is unknown or has been revoked');
    if (token.isExpired) throw refused('token has expired!', 'token_expired');
    known = knownFrom(found.token_kind, token);
    // Kept once it passed every check the payload alone decides (a verified payload, not expired); a token without
    // an expiry is verified on every request.
    if (known.exp > 0) rememberToken(provider, key, known);
    row = { ...found, token_live: true };
  }
  // Sender-constrained (RFC 9449 §7): a bound token needs a proof by its key; an unbound one has no key to prove.
  const { jkt } = known;
  if (jkt !== undefined && !proof) {
    throw invalidDpopToken('this access token is bound to a DPoP key: send it as "Authorization: DPoP <token>" with a DPoP proof by that key');
  }
  if (proof && jkt === undefined) throw refused('this access token is not bound to a DPoP key: send it as "Authorization: Bearer <token>"');
  if (proof && proof.thumbprint !== jkt) throw invalidProof('the DPoP proof is signed by a key other than the one this access token is bound to');
  if (!known.audience.includes(dataResource(deps.config))) {
    throw refused(`the access token is not for this API: request it with resource=${dataResource(deps.config)}`);
  }
  if (row.service_client_id === null || row.service_client_id !== known.clientId || row.service_disabled_at) {
    throw refused('this service has been disabled');
  }
  const service = { client_id: row.service_client_id, role: row.service_role!, subject_type: row.service_subject_type ?? 'pairwise' };
  return { token: known, row, service, proof, value, refused };
}

/**
 * Resolves the data API's security scheme: undefined without an Authorization header, a thrown Unauthenticated
 * (or Forbidden) for a token that does not authorize the request.
 */
export async function resolveServiceToken(ctx: Context, deps: ResourceDeps): Promise<ResolvedService | undefined> {
  const live = await liveToken(ctx, deps);
  if (!live) return undefined;
  const { token, row, service, proof, value, refused } = live;
  const { provider } = deps.oidc;
  // A live token for nobody (client credentials): it is valid, so the refusal is 403, not 401.
  if (!('accountId' in token) || !token.accountId) {
    throw new InsufficientScope('this token carries no person (client credentials): use the authorization code flow');
  }
  const grant =
    token.grantId && row.grant_payload !== null
      ? await grantFacts(provider, dataResource(deps.config), token.grantId, row.grant_payload, row.grant_consumed_at)
      : undefined;
  if (!grant || grant.jti !== token.grantId || grant.accountId !== token.accountId || grant.clientId !== token.clientId) {
    throw refused('the grant behind this token has been revoked');
  }
  // Last, once everything else holds: a proof is used up only by a request it would have authorized.
  if (proof && !(await rememberProof(deps.db, proof))) {
    throw invalidProof('this DPoP proof was already used: make a new proof (new jti) for each request');
  }

  // What the token says, and no more than the grant still allows (a narrowed consent removes scopes at once).
  const granted = new Set(grant.scope.split(' ').filter(Boolean));
  const scopes = [...token.scopes].filter((s) => granted.has(s));
  const caller: ServiceCaller = {
    kind: 'service',
    clientId: service.client_id,
    role: service.role,
    subjectType: service.subject_type,
    grantId: grant.jti,
    accountId: token.accountId,
    scopes,
  };
  const snapshot = profileSnapshotFrom(row);
  return { caller, credential: value, ...(snapshot && snapshot.profile.user_id === token.accountId ? { snapshot } : {}) };
}

/**
 * Resolves the scheme of the operations a service calls as itself — a responder organisation's roster, a request
 * to a person —, with a token from the client credentials grant for the data API (`resource=<BASE_URL>/api/v1/data`):
 * live, for this API, by a service still enabled. A token issued for a person is refused (403): these operations act
 * for the organisation, never under a person's grant.
 */
export async function resolveServiceClientToken(ctx: Context, deps: ResourceDeps): Promise<ResolvedService | undefined> {
  const live = await liveToken(ctx, deps);
  if (!live) return undefined;
  const { token, service, proof, value } = live;
  if ('accountId' in token && token.accountId) {
    throw new InsufficientScope("this token was issued under a person's grant: use a token from the client credentials grant");
  }
  if (proof && !(await rememberProof(deps.db, proof))) {
    throw invalidProof('this DPoP proof was already used: make a new proof (new jti) for each request');
  }
  const caller: ServiceCaller = {
    kind: 'service',
    clientId: service.client_id,
    role: service.role,
    subjectType: service.subject_type,
    scopes: [...token.scopes],
  };
  return { caller, credential: value };
}
