/**
 * The interaction pages are for people in a browser: a refusal becomes an HTML page that says what to do, never
 * a JSON envelope. Errors from the provider (an expired or missing interaction) carry `status` and
 * `error_description`; our own carry `status` and their message. Refusals made before a handler runs (the
 * router's validation, an unsupported body, 404, 405) are turned into the same page by `interactionErrorPages`.
 */
import { AppError } from '../../errors.ts';
import { Reply } from '../../http/types.ts';
import type { Context, Next } from 'koa';
import type { Envelope } from '../../http/middleware/error-envelope.ts';
import { escapeHtml, renderPage } from '../../oidc/pages.ts';

/** The error page, with `message` for the person; sets the page's CSP on `ctx`. */
function errorPage(ctx: Context, message: string): string {
  return renderPage(ctx, {
    title: 'Cannot continue',
    body: `<h1>This step cannot be completed</h1><p class="error" role="alert">${escapeHtml(message)}</p>
<p>Go back to the service you came from and start again.</p>`,
  });
}

export async function asPage(ctx: Context, run: () => Promise<Reply>): Promise<Reply> {
  try {
    return await run();
  } catch (err) {
    const e = err as { status?: number; error_description?: string; expose?: boolean; message?: string };
    const known = err instanceof AppError ? err.expose : typeof e.status === 'number' && e.status < 500 && Boolean(e.error_description);
    if (!known) throw err;
    // The provider's own descriptions name cookies and sessions; a person needs to know what happened instead.
    const message =
      err instanceof AppError
        ? err.message
        : (err as Error).name === 'SessionNotFound'
          ? 'this sign-in request is unknown, has expired or is already complete'
          : (e.error_description ?? 'this request can no longer be completed');
    // Retry-After of a throttled login, for instance, belongs on the page as on the API.
    const headers = err instanceof AppError ? (err.headers ?? {}) : {};
    return new Reply(errorPage(ctx, message), { status: e.status ?? 400, type: 'text/html; charset=utf-8', headers });
  }
}

/** Whether a request is for one of the interaction pages (the provider sends the browser to /interaction/<uid>). */
export function isInteractionPage(path: string): boolean {
  return path === '/interaction' || path.startsWith('/interaction/');
}

/**
 * Middleware around the error envelope: on the interaction pages, the envelope of any refusal or failure (the
 * router's 400 for a malformed form, 404, 405, 413, 415, a 500) becomes the error page with the envelope's status
 * and message; the headers the error set (Allow, Retry-After) stay. The envelope stays the one place an error
 * becomes a response and is logged; this only changes how it is shown to a browser.
 */
export function interactionErrorPages() {
  return async function interactionErrorPagesMiddleware(ctx: Context, next: Next) {
    await next();
    if (ctx.status < 400 || !isInteractionPage(ctx.path)) return;
    const envelope = ctx.body as Partial<Envelope> | null | undefined;
    if (!envelope || typeof envelope !== 'object' || typeof envelope.status !== 'string' || typeof envelope.error !== 'string') return;
    const status = ctx.status;
    ctx.body = errorPage(ctx, envelope.status);
    ctx.type = 'text/html; charset=utf-8';
    ctx.status = status;
  };
}
