/**
 * Renders a console page: a static shell in the chosen language, the page's messages as a JSON data block (never
 * executed), its style sheet and scripts from /account/assets, and — when the browser holds the cookie of a live
 * session — the login's CSRF value in a meta tag for the scripts to send back. No inline script or style: the CSP allows
 * scripts, styles and API calls from this origin only, no framing, no form posts elsewhere. No page holds personal
 * data (the scripts fetch it), yet each is `no-store`: it carries the session's CSRF value.
 */
import type { AppDeps, RequestInput } from '../../deps.ts';
import { Reply } from '../../deps.ts';
import { pageCsrf } from '../accounts/cookie-session.ts';
import { messagesFor, type Messages } from './catalogue.ts';
import { chooseLocale } from './locale.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export interface ConsolePage {
  /** The catalogue section, the script (assets/<id>.js) and, for a navigation entry, `nav.<id>`. */
  id: string;
  path: string;
  /** A page of a signed-in person: it shows the navigation, and sends a visitor without a session to sign in. */
  signedIn: boolean;
  /** Listed in the navigation. */
  nav: boolean;
  /** The static part of the page, below its title (trusted HTML: messages come escaped from `t`). */
  body(t: T): string;
}

/** A message of the page's language, escaped for HTML. */
export type T = (key: string) => string;

const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON safe inside a <script type="application/json"> element. */
function dataBlock(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** Pages of other features linked from the navigation (the passkeys feature serves its own page). */
const OTHER_PAGES = [{ id: 'passkeys', path: '/account/passkeys' }];

function nav(pages: readonly ConsolePage[], current: ConsolePage, t: T): string {
  const items = pages
    .filter((p) => p.nav)
    .map((p) => `<li><a href="${p.path}"${p === current ? ' aria-current="page"' : ''}>${t(`nav.${p.id}`)}</a></li>`)
    .join('');
  const others = OTHER_PAGES.map((p) => `<li><a href="${p.path}">${t(`nav.${p.id}`)}</a></li>`).join('');
  return `<nav aria-label="${t('nav.label')}"><ul>${items}${others}</ul></nav><button type="button" id="rf-signout" class="secondary">${t('nav.signOut')}</button>`;
}

function languagePicker(locale: string, t: T): string {
  const options = [
    ['en', 'English'],
    ['zh-Hans', '简体中文'],
    ['zh-Hant', '繁體中文'],
  ]
    .map(([value, label]) => `<option value="${value}"${value === locale ? ' selected' : ''} lang="${value}">${label}</option>`)
    .join('');
  return `<label class="lang">${t('common.language')} <select id="rf-lang">${options}</select></label>`;
}

/** A page's script: its id in kebab case (signIn → sign-in.js). */
function scriptName(id: string): string {
  return id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export async function renderConsolePage(input: RequestInput, deps: AppDeps, page: ConsolePage, pages: readonly ConsolePage[]): Promise<Reply> {
  const locale = chooseLocale(input.query.lang, input.ctx.get('cookie'), input.ctx.get('accept-language'));
  const messages: Messages = messagesFor(locale);
  const t: T = (key) => escapeHtml(messages[key] ?? key);
  const proof = await pageCsrf(input.ctx, deps);
  const csrf = proof ? `\n<meta name="rf-csrf" content="${proof}">` : '';
  const script = `/account/assets/${scriptName(page.id)}.js`;
  const html = `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t(`${page.id}.title`)} · ${t('common.brand')}</title>${csrf}
<meta name="rf-page" content="${page.id}" data-signed-in="${page.signedIn}">
<link rel="stylesheet" href="/account/assets/console.css">
<script type="application/json" id="rf-messages">${dataBlock(messages)}</script>
<script type="module" src="${script}"></script>
</head>
<body>
<a class="skip" href="#main">${t('common.skip')}</a>
<header>
<span class="brand">${t('common.brand')}</span>
${page.signedIn ? nav(pages, page, t) : ''}
${languagePicker(locale, t)}
</header>
<main id="main" tabindex="-1">
<h1>${t(`${page.id}.title`)}</h1>
<p id="rf-status" class="status" role="status" aria-live="polite"></p>
${page.body(t)}
</main>
</body>
</html>
`;
  return new Reply(html, {
    type: 'text/html; charset=utf-8',
    headers: { 'Content-Security-Policy': CONSOLE_CSP, 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Referrer-Policy': 'no-referrer' },
  });
}
