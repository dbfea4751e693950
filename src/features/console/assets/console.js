/**
 * Shared by every page of the console: the page's messages, the API client (the session cookie goes by itself;
 * this adds the CSRF header), the session's renewal while the person uses the page, forms with their errors next
 * to each field, loading states, the confirmation step, and the header. Nothing is ever written as HTML: text goes
 * in as text.
 */
const messages = JSON.parse(document.getElementById('rf-messages')?.textContent ?? '{}');
let csrf = document.querySelector('meta[name="rf-csrf"]')?.getAttribute('content') ?? '';
const pageMeta = document.querySelector('meta[name="rf-page"]');
const signedInPage = pageMeta?.dataset.signedIn === 'true';

/** A message of the page's language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  return (messages[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.status ?? `HTTP ${status}`);
    this.status = status;
    this.body = body ?? {};
  }
}

/** Sends the visitor to sign in, and back here afterwards. */
export function signInAgain() {
  location.assign(`/account/sign-in?next=${encodeURIComponent(location.pathname)}`);
}

/** The server's clock minus this browser's, from the Date of the last answer (token lifetimes are the server's). */
let clockSkew = 0;

function noteServerClock(res) {
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isFinite(date)) clockSkew = date - Date.now();
}

/**
 * The sliding session. The access token lives 15 minutes; once two thirds of that have passed, and the person has
 * done something on the page since the last renewal (a key, a pointer, a scroll, an API call), the page renews it
 * (POST /api/v1/auth/refresh, session: cookie): new cookies, the same CSRF value. A page left alone lets the
 * session lapse, and its next call sends the person to sign in. Tabs renew one at a time (a Web Lock), so no two
 * present the same refresh token — which the server would take for a stolen copy and end the whole login.
 */
const session = { renewAt: Number.POSITIVE_INFINITY, renewedAt: 0, activeAt: 0, timer: 0, renewing: undefined };

function sessionLasts(seconds) {
  const now = Date.now();
  session.renewedAt = now;
  session.renewAt = now + (seconds * 1000 * 2) / 3;
  clearTimeout(session.timer);
  session.timer = setTimeout(() => {
    if (session.activeAt > session.renewedAt) renewSession();
  }, session.renewAt - now);
}

function renewSession() {
  session.renewing ??= (async () => {
    const run = async () => {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ session: 'cookie' }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
      noteServerClock(res);
      // Refused (left unused too long, or at the session's limit): no more renewals; the next call signs in again.
      if (!res.ok) return void (session.renewAt = Number.POSITIVE_INFINITY);
      const body = await res.json();
      csrf = body.csrf_token;
      sessionLasts(body.expires_in);
    };
    try {
      await (navigator.locks ? navigator.locks.request('rf-session-renewal', run) : run());
    } catch {
      session.renewAt = Number.POSITIVE_INFINITY;
    } finally {
      session.renewing = undefined;
    }
  })();
  return session.renewing;
}

function sessionInUse() {
  session.activeAt = Date.now();
  if (session.activeAt >= session.renewAt) renewSession();
}

/** Calls the public API as this browser's session. */
export async function api(method, path, options = {}) {
  if (csrf) sessionInUse();
  const headers = { accept: 'application/json' };
  if (csrf) headers['x-csrf-token'] = csrf;
  let body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    body = options.yaml;
  } else if (options.form !== undefined) {
    body = options.form;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, { status: t('common.networkError') });
  }
  noteServerClock(res);
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : options.blob && res.ok ? await res.blob() : await res.text();
  if (!res.ok) {
    if (res.status === 401 && signedInPage) signInAgain();
    throw new ApiError(res.status, typeof data === 'object' ? data : { status: data });
  }
  return data;
}

/** An element with attributes and children (strings become text, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setStatus(text) {
  const status = document.getElementById('rf-status');
  if (status) status.textContent = text;
}

export function formatTime(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function loaded() {
  for (const node of document.querySelectorAll('[data-loading]')) node.hidden = true;
}

/** Removes the errors shown in a form. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error, .form-error')) p.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** The input of `form` that shows a detail's path: its data-path is the path, or a prefix of it. */
function inputFor(form, path) {
  for (const input of form.querySelectorAll('[data-path]')) {
    for (const p of input.dataset.path.split(' ')) {
      if (path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) return input;
    }
  }
  return undefined;
}

/** Shows an API error in a form: each detail next to its field, the message at the top; focus on the first. */
export function showError(form, err) {
  clearErrors(form);
  let first;
  for (const detail of err.body?.details ?? []) {
    const input = inputFor(form, detail.path);
    const slot = input && document.getElementById(`${input.id}-error`);
    if (!slot) continue;
    slot.textContent = slot.textContent ? `${slot.textContent} ${detail.message}` : detail.message;
    input.setAttribute('aria-invalid', 'true');
    first ??= input;
  }
  const top = form.querySelector('.form-error');
  if (top) top.textContent = err.body?.status ?? err.message;
  first?.focus();
}

/** Marks a form busy (its buttons disabled, a saving message) while `work` runs; shows its error. */
export async function whileBusy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  form.setAttribute('aria-busy', 'true');
  for (const b of buttons) b.disabled = true;
  setStatus(t('common.saving'));
  try {
    const result = await work();
    return result;
  } catch (err) {
    setStatus('');
    if (err instanceof ApiError) showError(form, err);
    else throw err;
    return undefined;
  } finally {
    form.removeAttribute('aria-busy');
    for (const b of buttons) b.disabled = false;
  }
}

/** Calls `handler` with the form's data on submit, clearing old errors and showing new ones. */
export function onSubmit(id, handler) {
  const form = document.getElementById(id);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    whileBusy(form, () => handler(new FormData(form), form));
  });
  return form;
}

/**
 * The confirmation step before a destructive action (the pattern of seed API 8's revoke): an alert dialog placed
 * right after the card it acts on, its title focused, what will happen in words (and the items it touches), a
 * danger button that runs `work` and a cancel button; Escape cancels too, and focus goes back to `opener`. An API
 * error stays in the dialog; on success it closes and `done` (the status line, or a function of what `work`
 * returned) is announced.
 */
export function confirmStep(opener, { title, text, items, yes, work, done }) {
  let dialog = document.getElementById('rf-confirm');
  if (!dialog) {
    dialog = h(
      'div',
      { id: 'rf-confirm', class: 'dialog', role: 'alertdialog', 'aria-modal': 'false', 'aria-labelledby': 'rf-confirm-title', 'aria-describedby': 'rf-confirm-text' },
      h('h2', { id: 'rf-confirm-title', tabindex: '-1' }),
      h('p', { id: 'rf-confirm-text' }),
      h('ul', { id: 'rf-confirm-items' }),
      h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'button', id: 'rf-confirm-yes', class: 'danger' }),
      ' ',
      h('button', { type: 'button', id: 'rf-confirm-no', class: 'secondary' }, t('common.cancel')),
    );
  }
  const close = () => {
    dialog.hidden = true;
    if (opener.isConnected) opener.focus();
    else document.getElementById('main')?.focus();
  };
  (opener.closest('.card') ?? opener).after(dialog);
  dialog.querySelector('#rf-confirm-title').textContent = title;
  dialog.querySelector('#rf-confirm-text').textContent = text;
  const list = dialog.querySelector('#rf-confirm-items');
  list.replaceChildren(...(items ?? []).map((item) => h('li', {}, item)));
  list.hidden = !items;
  const error = dialog.querySelector('.form-error');
  error.textContent = '';
  const yesButton = dialog.querySelector('#rf-confirm-yes');
  yesButton.textContent = yes;
  yesButton.disabled = false;
  dialog.querySelector('#rf-confirm-no').onclick = close;
  dialog.onkeydown = (event) => {
    if (event.key === 'Escape') close();
  };
  yesButton.onclick = async () => {
    yesButton.disabled = true;
    yesButton.setAttribute('aria-busy', 'true');
    setStatus(t('common.saving'));
    try {
      const result = await work();
      dialog.hidden = true;
      setStatus(typeof done === 'function' ? done(result) : done);
      document.getElementById('main')?.focus();
    } catch (err) {
      setStatus('');
      if (err instanceof ApiError) error.textContent = err.message;
      else throw err;
    } finally {
      yesButton.disabled = false;
      yesButton.removeAttribute('aria-busy');
    }
  };
  dialog.hidden = false;
  dialog.querySelector('#rf-confirm-title').focus();
}

const LANG_COOKIE = 'rf_lang';

function setLanguage(lang) {
  document.cookie = `${LANG_COOKIE}=${lang}; Path=/account; Max-Age=31536000; SameSite=Strict`;
  const url = new URL(location.href);
  url.searchParams.delete('lang');
  location.replace(url.href);
}

/** The console language of the profile's `locale` (a BCP 47 tag), as the server maps it. */
function consoleLocale(tag) {
  const l = String(tag ?? '').toLowerCase();
  if (l === 'en' || l.startsWith('en-')) return 'en';
  if (l === 'zh' || l.startsWith('zh-')) return /^zh-(hant|tw|hk|mo)\b/.test(l) ? 'zh-Hant' : 'zh-Hans';
  return undefined;
}

/** Follows the profile's locale once, unless the person picked a language: true when the page reloads for it. */
async function followProfileLocale() {
  if (new URL(location.href).searchParams.has('lang') || document.cookie.includes(`${LANG_COOKIE}=`)) return false;
  const profile = await api('GET', '/api/v1/profile');
  const wanted = consoleLocale(profile.fields?.locale?.value);
  if (wanted && wanted !== document.documentElement.lang) {
    setLanguage(wanted);
    return true;
  }
  return false;
}

function wireHeader() {
  document.getElementById('rf-lang')?.addEventListener('change', (event) => setLanguage(event.target.value));
  document.getElementById('rf-signout')?.addEventListener('click', async () => {
    try {
      await api('POST', '/api/v1/auth/logout', { json: {} });
    } finally {
      location.assign('/account/sign-in');
    }
  });
}

/** Starts a page: the header, then (on a signed-in page) the session check, then `render(me)`. */
export async function boot(render) {
  wireHeader();
  try {
    if (!signedInPage) return await render(undefined);
    if (!csrf) return signInAgain();
    const me = await api('GET', '/api/v1/auth/me');
    sessionLasts(Math.max(0, (Date.parse(me.session.expires_at) - (Date.now() + clockSkew)) / 1000));
    for (const type of ['keydown', 'pointerdown', 'wheel', 'scroll']) addEventListener(type, sessionInUse, { capture: true, passive: true });
    if (await followProfileLocale()) return;
    await render(me);
  } catch (err) {
    loaded();
    setStatus('');
    const top = document.querySelector('main > .form-error') ?? document.getElementById('rf-status');
    if (top) top.textContent = `${t('common.error')}${err.message}`;
    if (!(err instanceof ApiError)) throw err;
  }
}
