/**
 * The interaction pages are for people in a browser: a refusal becomes an HTML page that says what to do, never
 * a JSON envelope. Errors from the provider (an expired or missing interaction) carry `status` and
 * `error_description`; our own carry `status` and their message.
 */
import { AppError } from '../../errors.ts';
import { Reply } from '../../http/types.ts';
import type { Context } from 'koa';
import { escapeHtml, renderPage } from '../../oidc/pages.ts';

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
    const html = renderPage(ctx, {
      title: 'Cannot continue',
      body: `<h1>This step cannot be completed</h1><p class="error" role="alert">${escapeHtml(message)}</p>
<p>Go back to the service you came from and start again.</p>`,
    });
    // Retry-After of a throttled login, for instance, belongs on the page as on the API.
    const headers = err instanceof AppError ? (err.headers ?? {}) : {};
    return new Reply(html, { status: e.status ?? 400, type: 'text/html; charset=utf-8', headers });
  }
}
