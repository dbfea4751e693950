/**
 * Server-rendered pages (login, consent, errors, logout): no external assets, no inline script, a strict
 * Content-Security-Policy whose only allowance is a per-response nonce for the one style block.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const STYLE = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem 2.25rem;border-radius:10px;box-shadow:0 1px 4px #0002}
h1{font-size:1.35rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:.9rem 0 .25rem}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem .6rem;border:1px solid #a9afbb;border-radius:6px;font:inherit}
button{font:inherit;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #2450b2;background:#2f62d6;color:#fff;cursor:pointer;margin:1rem .5rem 0 0}
button.secondary{background:#fff;color:#2450b2}
.error{background:#fdecea;border:1px solid #e3a29b;padding:.6rem .8rem;border-radius:6px}
.fields{margin:.5rem 0 0;padding-left:1.2rem}
.scope{border:1px solid #d8dce4;border-radius:6px;padding:.4rem .8rem;margin:.6rem 0}
.scope label{font-weight:400;margin:0}
.muted{color:#5b6473;font-size:.9rem}
.role{display:inline-block;background:#eef2fb;border-radius:4px;padding:0 .4rem}
`;

export interface PageOptions {
  title: string;
  /** Trusted HTML: every interpolated value in it must already be escaped. */
  body: string;
  /**
   * Where forms on this page may post and redirect to; `null` leaves form-action out (the logout form, whose
   * redirect target is the service's own post-logout URI).
   */
  formAction?: string[] | null;
  /**
   * Scripts of this origin the page loads (same-origin files only, never inline): the CSP then allows
   * `script-src 'self'` and `connect-src 'self'` for their API calls, nothing more.
   */
  scripts?: string[];
}

/** Renders a page and sets its CSP header on `ctx`. */
export function renderPage(ctx: Pick<Context, 'set'>, options: PageOptions): string {
  const nonce = randomBytes(16).toString('base64');
  const formAction = options.formAction === null ? [] : [`form-action 'self' ${(options.formAction ?? []).join(' ')}`.trim()];
  ctx.set(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `style-src 'nonce-${nonce}'`,
      "img-src 'self' data:",
      ...(options.scripts?.length ? ["script-src 'self'", "connect-src 'self'"] : []),
      "base-uri 'none'",
      "frame-ancestors 'none'",
      ...formAction,
    ].join('; '),
  );
  ctx.set('Cache-Control', 'no-store');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} · Ringfence</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
${options.body}
</main>
${(options.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}"></script>`).join('\n')}
</body>
</html>
`;
}

/**
 * The passkey scripts (served by the passkeys feature at /account/passkeys/assets/): @simplewebauthn/browser's bundle and the
 * pages' own script. The provider's login page loads them for its passkey button and conditional UI.
 */
export const PASSKEY_SCRIPTS = ['/account/passkeys/assets/simplewebauthn-browser.js', '/account/passkeys/assets/passkeys.js'];

/** A form page shown again with a refusal's message, where other refusals get the error page. */
export type RefusalForm = (message: string) => string;

/**
 * Says that `err`, thrown now, is shown in `form` (a wrong password shows the login form again, with the message)
 * rather than on the error page; returns `err` to throw. The error's status and message are mapped as any other's
 * (src/http/middleware/error-envelope.ts), so the page still sets no status of its own.
 */
export function inForm<E extends Error>(ctx: Pick<Context, 'state'>, form: RefusalForm, err: E): E {
  (ctx.state as { refusalForm?: RefusalForm }).refusalForm = form;
  return err;
}

/** The form a refusal of this request is shown in, when its page said so with `inForm`. */
export function refusalFormOf(ctx: Pick<Context, 'state'>): RefusalForm | undefined {
  return (ctx.state as { refusalForm?: RefusalForm }).refusalForm;
}
