/**
 * The passkeys page (`/account/passkeys`): sign in (password or passkey), add, list passkeys. Its scripts are files
 * of this origin — @simplewebauthn/browser's bundle from node_modules and the page's own script below — so the
 * strict CSP (no inline script) holds. The provider's login page loads the same script for its passkey button and
 * conditional UI.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
// The package exports only its modules: its browser bundle sits two directories above the CommonJS entry.
const BROWSER_BUNDLE = path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '../dist/bundle/index.umd.min.js');

const CLIENT_SCRIPT = `(() => {
  'use strict';
  const W = window.SimpleWebAuthnBrowser;
  const $ = (id) => document.getElementById(id);
  let token = null;
  const say = (text, ok) => {
    const el = $('status');
    if (!el) return;
    el.textContent = text;
    el.className = ok ? 'ok' : 'error';
    el.dataset.outcome = ok ? 'ok' : 'error';
  };
  const reason = (err) =>
    err && err.name === 'NotAllowedError'
      ? 'The passkey was not used: your device did not confirm it was you (user verification failed or was cancelled).'
      : (err && err.message) || 'Something went wrong.';
  async function api(method, url, body, auth) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth && token) headers.authorization = 'Bearer ' + token;
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.status || 'the request failed (' + res.status + ')');
    return json;
  }
  async function refresh() {
    const list = $('passkeys');
    if (!list || !token) return;
    const { passkeys } = await api('GET', '/api/v1/profile/passkeys', undefined, true);
    list.replaceChildren(
      ...passkeys.map((p) => {
        const li = document.createElement('li');
        li.textContent = p.name + ' (last used: ' + (p.last_used_at || 'never') + ')';
        li.dataset.passkeyId = p.passkey_id;
        return li;
      }),
    );
  }
  function signedIn(t, how) {
    token = t;
    const box = $('signed-in');
    if (box) box.hidden = false;
    document.body.dataset.signedIn = how;
    say('Signed in with ' + how + '.', true);
    refresh().catch((err) => say(reason(err), false));
  }
  const form = $('password-form');
  if (form) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const login = $('login').value;
      try {
        const r = await api('POST', '/api/v1/users/login', { [login.includes('@') ? 'email' : 'handle']: login, password: $('password').value });
        signedIn(r.token, 'your password');
      } catch (err) {
        say(reason(err), false);
      }
    });
  }
  const add = $('add-passkey');
  if (add) {
    add.addEventListener('click', async () => {
      try {
        const { options } = await api('POST', '/api/v1/profile/passkeys/registration-options', {}, true);
        const response = await W.startRegistration({ optionsJSON: options });
        const name = $('passkey-name').value.trim();
        await api('POST', '/api/v1/profile/passkeys', name ? { response, name } : { response }, true);
        say('Passkey added.', true);
        await refresh();
      } catch (err) {
        say(reason(err), false);
      }
    });
  }
  const signin = $('passkey-signin');
  if (signin) {
    signin.addEventListener('click', async () => {
      try {
        const { options } = await api('POST', '/api/v1/auth/passkey/options', {});
        const response = await W.startAuthentication({ optionsJSON: options });
        const r = await api('POST', '/api/v1/auth/passkey', { response });
        signedIn(r.token, 'a passkey');
      } catch (err) {
        say(reason(err), false);
      }
    });
  }
  // The provider's login page: the passkey button, and conditional UI (the username field offers passkeys).
  const interaction = $('interaction-passkey');
  if (interaction) {
    const finish = async (response) => {
      const r = await api('POST', '/interaction/' + interaction.dataset.uid + '/passkey', { csrf: interaction.dataset.csrf, response });
      window.location.assign(r.redirect_to);
    };
    const ceremony = async (autofill) => {
      const { options } = await api('POST', '/api/v1/auth/passkey/options', {});
      return finish(await W.startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill }));
    };
    interaction.addEventListener('click', () => ceremony(false).catch((err) => say(reason(err), false)));
    W.browserSupportsWebAuthnAutofill().then((yes) => {
      if (yes) ceremony(true).catch(() => {});
    });
  }
})();
`;

/** The files the pages may load: a fixed list, so the path parameter can never reach anything else. */
const ASSETS: Record<string, { type: string; load: () => Promise<Buffer | string> }> = {
  'simplewebauthn-browser.js': { type: 'text/javascript; charset=utf-8', load: () => readFile(BROWSER_BUNDLE) },
  'passkeys.js': { type: 'text/javascript; charset=utf-8', load: async () => CLIENT_SCRIPT },
};

export function findPasskeysAsset(name: string) {
  return Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
}

/** The page's body (trusted HTML: nothing in it comes from a request). */
export const PASSKEYS_PAGE_BODY = `<h1>Passkeys</h1>
<p class="muted">A passkey signs you in with your device's screen lock (fingerprint, face or PIN). Your biometrics never
leave your device: Ringfence keeps only the passkey's public key.</p>
<p id="status" role="status"></p>
<button type="button" id="passkey-signin">Sign in with a passkey</button>
<form id="password-form" autocomplete="on">
<label for="login">E-mail or handle</label>
<input id="login" name="login" type="text" autocomplete="username webauthn" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="secondary">Sign in with your password</button>
</form>
<section id="signed-in" hidden>
<h2>Your passkeys</h2>
<ul id="passkeys"></ul>
<label for="passkey-name">Name of a new passkey</label>
<input id="passkey-name" name="passkey-name" type="text" maxlength="64" placeholder="e.g. My laptop">
<button type="button" id="add-passkey">Add a passkey</button>
</section>`;
