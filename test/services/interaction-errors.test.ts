// Refusals made before an interaction page's handler runs — the router's validation, an unsupported or oversized
// body, a credential in the URL, a wrong method, a path that does not exist — answer the error page a browser can
// show, with the envelope's status and message, never the JSON envelope. The API keeps its JSON.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError, assertPage } from '../helpers/assert.ts';
import { type Authorization, csrfOf, registerClient, startAuthorization } from '../helpers/oidc.ts';

const app = useTestApp();
let auth: Authorization;
test.before(async () => {
  const { config } = await registerClient(app, 'government');
  auth = await startAuthorization(app, config, 'openid email');
});

const HTML = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };

function post(path: string, body: string, type = 'application/x-www-form-urlencoded', options: { unchecked?: boolean } = {}) {
  return app.request('POST', path, { headers: { ...HTML, cookie: auth.agent.cookieHeader(path) }, raw: { body, type }, ...options });
}

test('a login form that breaks the schema (an oversized CSRF token) gets the 400 page, and the interaction goes on', async (t) => {
  const form = new URLSearchParams({ csrf: 'x'.repeat(200), login: 'someone', password: 'something long enough' });
  const res = await post(`/interaction/${auth.uid}/login`, form.toString());
  assertPage(t, res, 400, /csrf/);
  t.regex(res.headers.get('cache-control') ?? '', /no-store/);
  // The same interaction still shows its login page.
  const page = await auth.agent.request('GET', `/interaction/${auth.uid}`);
  t.is(page.status, 200);
  t.truthy(csrfOf(page.text));
});

test('a consent form naming a malformed scope gets the 400 page', async (t) => {
  const res = await post(`/interaction/${auth.uid}/consent`, new URLSearchParams({ csrf: 'x', scope: '<script>' }).toString());
  assertPage(t, res, 400, /scope/);
  t.false(res.text.includes('<script>'), 'what was sent is escaped on the page');
});

test('a body of the wrong type gets the 415 page naming the type to use', async (t) => {
  const res = await post(`/interaction/${auth.uid}/login`, JSON.stringify({ login: 'a', password: 'b' }), 'application/json');
  assertPage(t, res, 415, /application\/x-www-form-urlencoded/);
});

test('a body over the limit gets the 413 page', async (t) => {
  const res = await post(`/interaction/${auth.uid}/login`, `login=${'a'.repeat(app.config.bodyLimit + 10)}`);
  assertPage(t, res, 413, /larger than/);
});

test('a password in the URL gets the 400 page saying to send it in the body', async (t) => {
  const res = await app.request('GET', `/interaction/${auth.uid}?password=hunter22`, { headers: HTML });
  assertPage(t, res, 400, /never put password in the URL/);
  t.false(res.text.includes('hunter22'));
});

test('an interaction id that is not one gets the 400 page', async (t) => {
  assertPage(t, await app.request('GET', '/interaction/short', { headers: HTML }), 400, /uid/);
});

test('a wrong method gets the 405 page with Allow; an unknown interaction path the 404 page', async (t) => {
  const wrong = await app.request('PUT', `/interaction/${auth.uid}/login`, { headers: HTML, unchecked: true });
  assertPage(t, wrong, 405);
  t.is(wrong.headers.get('allow'), 'POST');
  assertPage(t, await app.request('GET', `/interaction/${auth.uid}/elsewhere`, { headers: HTML, unchecked: true }), 404, /no such endpoint/);
});

test('the API keeps the JSON envelope for the same refusals', async (t) => {
  assertError(t, await app.request('GET', '/api/v1/nowhere', { headers: HTML, unchecked: true }), 404, 'not_found');
  assertError(t, await app.request('PUT', '/api/v1/users/login', { headers: HTML, unchecked: true }), 405);
  assertError(t, await app.request('POST', '/api/v1/users/login', { headers: HTML, raw: { body: 'login=a', type: 'text/plain' } }), 415);
});
