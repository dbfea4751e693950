/**
 * The browser session of the console (OAuth 2.0 for Browser-Based Apps BCP): a login or registration that asks for
 * `session: "cookie"` gets its access token in a first-party cookie no script can read — `__Host-rf_session` over
 * TLS (Secure, Path=/, no Domain), `rf_session` over plain HTTP in development — HttpOnly and SameSite=Strict, and
 * never in the response body. The `sessionToken` scheme takes that cookie only with a CSRF proof: an `X-CSRF-Token`
 * header equal to the session's CSRF value (a hash of the token under its own label, which the console's pages
 * carry in a meta tag), and no `Origin` or `Sec-Fetch-Site` that says the request came from another site.
 */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { AppDeps } from '../../deps.ts';
import { CsrfRefused } from '../../errors.ts';
import { safeEqual } from '../../crypto/tokens.ts';

const CSRF_HEADER = 'x-csrf-token';

/** Whether the service is served over TLS (its public URL says so; start-up checks the proxy with it). */
function overTls(deps: Pick<AppDeps, 'config'>): boolean {
  return deps.config.baseUrl.startsWith('https:');
}

function sessionCookieName(deps: Pick<AppDeps, 'config'>): string {
  return overTls(deps) ? '__Host-rf_session' : 'rf_session';
}

/** The CSRF value bound to a session token: anyone who can send it could already read the page that holds it. */
export function csrfFor(token: string): string {
  return createHash('sha256').update(`ringfence console csrf\n${token}`, 'utf8').digest('base64url');
}

function cookieAttributes(deps: Pick<AppDeps, 'config'>, maxAge: number): string {
  return `Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${overTls(deps) ? '; Secure' : ''}`;
}

/** Sets the session cookie on the response; returns the CSRF value the console sends back with every call. */
export function setSessionCookie(ctx: Pick<Context, 'append'>, deps: Pick<AppDeps, 'config'>, token: string, maxAge: number): string {
  ctx.append('Set-Cookie', `${sessionCookieName(deps)}=${token}; ${cookieAttributes(deps, maxAge)}`);
  return csrfFor(token);
}

/** Clears the session cookie (logout): harmless on a request that never had one. */
export function clearSessionCookie(ctx: Pick<Context, 'append'>, deps: Pick<AppDeps, 'config'>): void {
  ctx.append('Set-Cookie', `${sessionCookieName(deps)}=; ${cookieAttributes(deps, 0)}`);
}

/** The session token in the request's cookie, unchecked (the console's pages derive their CSRF value from it). */
export function sessionCookie(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): string | undefined {
  const name = sessionCookieName(deps);
  for (const part of ctx.get('cookie').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,512}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
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

/**
 * The session token a request carries in the console's cookie, once its CSRF proof holds; undefined without the
 * cookie. A cookie without a valid proof is refused (403 `csrf_refused`), never silently ignored.
 */
export function cookieSessionToken(ctx: Pick<Context, 'get'>, deps: Pick<AppDeps, 'config'>): string | undefined {
  const token = sessionCookie(ctx, deps);
  if (!token) return undefined;
  if (crossSite(ctx, deps))
    throw new CsrfRefused("this request came from another site: the session cookie is accepted only from Ringfence's own pages");
  const proof = ctx.get(CSRF_HEADER);
  if (proof === '' || !safeEqual(proof, csrfFor(token))) {
    throw new CsrfRefused('send the X-CSRF-Token header of your console page with the session cookie (reload the page if it is missing)', {
      details: [{ path: 'X-CSRF-Token', message: proof === '' ? 'is required with the session cookie' : 'does not match this session' }],
    });
  }
  return token;
}
