/**
 * The browser session of the console (OAuth 2.0 for Browser-Based Apps BCP): a login or registration that asks for
 * `session: "cookie"` gets its tokens in first-party cookies no script can read, never in the response body — the
 * access token in `__Host-rf_session` over TLS (Secure, Path=/, no Domain), `rf_session` over plain HTTP in
 * development; the refresh token in `__Secure-rf_refresh` (`rf_refresh`), sent only to POST /api/v1/auth/refresh.
 * Both HttpOnly and SameSite=Strict. The `sessionToken` scheme takes the session cookie only with a CSRF proof: an
 * `X-CSRF-Token` header equal to the login's CSRF value (a MAC of its session id under a key of this service,
 * which the console's pages carry in a meta tag), and no `Origin` or `Sec-Fetch-Site` that says the request came
 * from another site.
 *
 * The CSRF value belongs to the login, not to one token: the renewal (./cookie-renewal.ts) rotates both tokens and
 * every open tab keeps working with the value its page was given.
 */
import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import type { AppDeps } from '../../deps.ts';
import { CsrfRefused } from '../../errors.ts';
import { hashToken, safeEqual } from '../../crypto/tokens.ts';
import { bindFamilyToCookie, findSessionByAccessHash } from './accounts.repo.ts';

const CSRF_HEADER = 'x-csrf-token';

/** The one path the refresh cookie is sent to. */
const REFRESH_PATH = '/api/v1/auth/refresh';

/** The absolute limit of a cookie session: hours after the last sign-in or step-up (Keycloak's SSO Session Max). */
export const SESSION_MAX_SECONDS = 10 * 60 * 60;

/** Whether the service is served over TLS (its public URL says so; start-up checks the proxy with it). */
function overTls(deps: Pick<AppDeps, 'config'>): boolean {
  return deps.config.baseUrl.startsWith('https:');
}

function sessionCookieName(deps: Pick<AppDeps, 'config'>): string {
  return overTls(deps) ? '__Host-rf_session' : 'rf_session';
}

// __Host- requires Path=/: the refresh cookie's narrower path takes the __Secure- prefix.
function refreshCookieName(deps: Pick<AppDeps, 'config'>): string {
  return overTls(deps) ? '__Secure-rf_refresh' : 'rf_refresh';
}

const csrfKeys = new WeakMap<object, Buffer>();

/**
 * The CSRF value of a login (its session id, the token family): the same for every token a renewal rotates in, and
 * keyed, so knowing the id (the audit log and GET /auth/me show it) does not give it.
 */
function csrfFor(deps: Pick<AppDeps, 'keyring'>, sessionId: string): string {
  let key = csrfKeys.get(deps.keyring);
  if (!key) {
    key = deps.keyring.derive('console-csrf');
    csrfKeys.set(deps.keyring, key);
  }
  return createHmac('sha256', key).update(sessionId, 'utf8').digest('base64url');
}

function cookieAttributes(deps: Pick<AppDeps, 'config'>, path: string, maxAge: number): string {
  return `Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${overTls(deps) ? '; Secure' : ''}`;
}

export interface CookieTokens {
  token: string;
  refresh_token: string;
  /** The login (token family) the pair belongs to. */
  sessionId: string;
  /** Seconds the access token, and its cookie, live. */
  expires_in: number;
  /** Seconds the refresh cookie lives: what is left of the session's absolute limit. */
  refreshMaxAge: number;
}

/** Sets both cookies on the response; returns the CSRF value the console sends back with every call. */
export function setSessionCookies(ctx: Pick<Context, 'append'>, deps: Pick<AppDeps, 'config' | 'keyring'>, tokens: CookieTokens): string {
  ctx.append('Set-Cookie', `${sessionCookieName(deps)}=${tokens.token}; ${cookieAttributes(deps, '/', tokens.expires_in)}`);
  ctx.append('Set-Cookie', `${refreshCookieName(deps)}=${tokens.refresh_token}; ${cookieAttributes(deps, REFRESH_PATH, tokens.refreshMaxAge)}`);
  return csrfFor(deps, tokens.sessionId);
}

/** The cookies of a new login (login, registration): its session id is read back from the token just issued. */
export async function setSessionCookie(
  ctx: Pick<Context, 'append'>,
  deps: AppDeps,
  tokens: { token: string; refresh_token: string; expires_in: number },
): Promise<string> {
  const row = await findSessionByAccessHash(deps.db, hashToken(tokens.token));
  if (!row) throw new Error('the session just issued is not stored');
  await bindFamilyToCookie(deps.db, row.family_id);
  return setSessionCookies(ctx, deps, { ...tokens, sessionId: row.family_id, refreshMaxAge: SESSION_MAX_SECONDS });
}

/** Clears both cookies (logout): harmless on a request that never had them. */
export function clearSessionCookie(ctx: Pick<Context, 'append'>, deps: Pick<AppDeps, 'config'>): void {
  ctx.append('Set-Cookie', `${sessionCookieName(deps)}=; ${cookieAttributes(deps, '/', 0)}`);
  ctx.append('Set-Cookie', `${refreshCookieName(deps)}=; ${cookieAttributes(deps, REFRESH_PATH, 0)}`);
}

function cookieValue(ctx: Pick<Context, 'get'>, name: string): string | undefined {
  for (const part of ctx.get('cookie').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,512}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** The session token in the request's cookie, unchecked. */
function sessionCookie(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): string | undefined {
  return cookieValue(ctx, sessionCookieName(deps));
}

/** The CSRF value for a console page: that of the cookie's login while its token is live, else none (sign in again). */
export async function pageCsrf(ctx: Pick<Context, 'get'>, deps: AppDeps): Promise<string | undefined> {
  const token = sessionCookie(ctx, deps);
  if (!token) return undefined;
  const row = await findSessionByAccessHash(deps.db, hashToken(token));
  if (!row || row.revoked_at || new Date(row.access_expires_at).getTime() <= Date.now()) return undefined;
  return csrfFor(deps, row.family_id);
}

/** Whether the browser says the request came from another site (absent headers say nothing: old browsers, curl). */
function crossSite(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): boolean {
  const site = ctx.get('sec-fetch-site');
  // A browser that sends Fetch Metadata says where the request came from; older ones are checked by Origin.
  if (site !== '') return site !== 'same-origin';
  const origin = ctx.get('origin');
  // The service's public origin (BASE_URL), not the request's: behind a proxy they differ.
  return origin !== '' && origin !== new URL(deps.config.baseUrl).origin;
}

function assertSameSite(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): void {
  if (crossSite(ctx, deps))
    throw new CsrfRefused("this request came from another site: the session cookie is accepted only from Ringfence's own pages");
}

/**
 * The session token a request carries in the console's cookie, once it is known to come from this site; undefined
 * without the cookie. Its CSRF proof is checked by `assertCsrfProof` once the token's login is known.
 */
export function cookieSessionToken(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): string | undefined {
  const token = sessionCookie(ctx, deps);
  if (token) assertSameSite(ctx, deps);
  return token;
}

/** The refresh token of the console's refresh cookie, from this site only; undefined without the cookie. */
export function refreshCookieToken(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): string | undefined {
  const token = cookieValue(ctx, refreshCookieName(deps));
  if (token) assertSameSite(ctx, deps);
  return token;
}

/** A cookie without a valid proof for its login is refused (403 `csrf_refused`), never silently ignored. */
export function assertCsrfProof(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'keyring'>, sessionId: string): void {
  const proof = ctx.get(CSRF_HEADER);
  if (proof !== '' && safeEqual(proof, csrfFor(deps, sessionId))) return;
  throw new CsrfRefused('send the X-CSRF-Token header of your console page with the session cookie (reload the page if it is missing)', {
    details: [{ path: 'X-CSRF-Token', message: proof === '' ? 'is required with the session cookie' : 'does not match this session' }],
  });
}
