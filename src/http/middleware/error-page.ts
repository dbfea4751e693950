/**
 * The interaction pages are for people in a browser: there, an error is shown as an HTML page that says what to
 * do, never as the JSON envelope. It is the same mapped error (./error-envelope.ts `mapError`) — status, message,
 * and the headers it set (Allow, Retry-After) — whether a handler threw it or the router refused the request before
 * one ran (validation, an unsupported or oversized body, 404, 405, a 500).
 */
import type { Context } from 'koa';
import { escapeHtml, refusalFormOf, renderPage } from '../../oidc/pages.ts';
import type { MappedError } from '../error-mapping.ts';

/** Whether a request is for one of the interaction pages (the provider sends the browser to /interaction/<uid>). */
export function isInteractionPage(path: string): boolean {
  return path === '/interaction' || path.startsWith('/interaction/');
}

/** The generic error page, with the message for the person; sets the page's CSP on `ctx`. */
function errorPage(ctx: Context, message: string): string {
  return renderPage(ctx, {
    title: 'Cannot continue',
    body: `<h1>This step cannot be completed</h1><p class="error" role="alert">${escapeHtml(message)}</p>
<p>Go back to the service you came from and start again.</p>`,
  });
}

/**
 * Answers `mapped` as a page: the form the refused step showed, again with the message, when the page said so
 * (a wrong password shows the login form again), else the error page.
 */
export function showErrorPage(ctx: Context, mapped: MappedError): void {
  const form = refusalFormOf(ctx);
  ctx.status = mapped.status;
  for (const [k, v] of Object.entries(mapped.headers)) {
    // The pages are signed into with a form and a cookie, not a Bearer token: a 401 there challenges no scheme.
    if (k.toLowerCase() !== 'www-authenticate') ctx.set(k, v);
  }
  ctx.body = form ? form(mapped.message) : errorPage(ctx, mapped.message);
  ctx.type = 'text/html; charset=utf-8';
}
