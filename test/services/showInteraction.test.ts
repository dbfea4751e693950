// The login and consent pages, and the page a person gets for an interaction that is unknown, foreign or over.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertPage } from '../helpers/assert.ts';
import { consentForm, csrfOf, registerClient, signIn, startAuthorization } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();

test('the login page names the service, labels every input and carries a CSRF token, under a nonce CSP', async (t) => {
  const { config, service } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const html = auth.page.text;
  t.regex(html, new RegExp(`Sign in to continue to ${service.name}`));
  for (const id of ['login', 'password']) t.regex(html, new RegExp(`<label for="${id}">[^<]+</label>\\s*<input id="${id}"`));
  t.regex(html, /<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}">/);
  const csp = auth.page.headers.get('content-security-policy') ?? '';
  const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
  t.truthy(nonce);
  t.true(html.includes(`<style nonce="${nonce}">`), 'the one style block carries the header nonce');
  t.notRegex(
    html,
    /<script(?! src="\/account\/passkeys\/assets\/[a-z.-]+"><\/script>)|https?:\/\/(?!127\.0\.0\.1)/,
    'no inline script (only the passkey scripts of this origin) and no external asset',
  );
  t.regex(csp, /default-src 'none'/);
  t.regex(csp, /frame-ancestors 'none'/);
});

test('the consent page names the service and its role and lists the fields the engine would release per scope', async (t) => {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email address');
  const consent = await signIn(auth, person.person.handle, person.person.password);
  const html = consent.page.text;
  t.true(html.includes(`${service.name} asks to see parts of your profile`));
  t.regex(html, /<span class="role">government<\/span>/);
  t.regex(html, /<strong>address<\/strong>[\s\S]*?<li>home_address /, 'the address scope lists home_address');
  t.regex(
    html,
    /<strong>email<\/strong>[\s\S]*?<li>email <[\s\S]*?<li>email_verified <span class="muted">— Whether you verified/,
    'with email, whether it is verified',
  );
  t.regex(html, /value="openid" checked disabled/, 'openid cannot be declined');
  t.regex(html, /value="address" checked>/, 'address can be declined');
  t.regex(consent.page.headers.get('content-security-policy') ?? '', /form-action 'self' http:\/\/127\.0\.0\.1:9/);
});

test('an unknown interaction uid gets the error page, not JSON', async (t) => {
  const res = await app.request('GET', '/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  assertPage(t, res, 400, /unknown, has expired or is already complete/);
});

test('a page of one interaction cannot be reached with the cookie of another', async (t) => {
  const { config } = await registerClient(app, 'government');
  const mine = await startAuthorization(app, config, 'openid email');
  const other = await startAuthorization(app, config, 'openid email');
  const res = await app.request('GET', `/interaction/${other.uid}`, { headers: { cookie: mine.agent.cookieHeader(`/interaction/${mine.uid}`) } });
  assertPage(t, res, 400, /unknown or has ended/);
});

test('a finished interaction gets the error page', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const consent = await signIn(auth, person.person.handle, person.person.password);
  // The browser's signed interaction cookie as it was while the consent page was open.
  const cookie = auth.agent.cookieHeader(`/interaction/${consent.uid}`);
  t.regex(cookie, /_interaction=[^;]+; _interaction\.sig=/);
  const answered = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, {
    form: consentForm(csrfOf(consent.page.text), ['openid', 'email']),
  });
  t.is(answered.status, 303);
  const { url } = await auth.agent.follow(answered);
  t.truthy(url.searchParams.get('code'), 'the service got its code');
  // The person's browser goes back to the pages of a request that has been answered.
  const again = await app.request('GET', `/interaction/${consent.uid}`, { headers: { cookie } });
  assertPage(t, again, 400, /unknown, has expired or is already complete/);
  assertPage(t, await auth.agent.request('GET', `/interaction/${consent.uid}`), 400);
  assertPage(t, await auth.agent.request('GET', `/interaction/${auth.uid}`), 400);
});
