/**
 * The form_post response mode (OAuth 2.0 Form Post Response Mode), which discovery advertises: the provider answers
 * with a page whose form a script submits to the service's redirect URI. That page's CSP must let the form go
 * there (form-action), and the script run (its hash in script-src) — a browser obeys the header, not the markup.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { useBrowser } from '../helpers/browser.ts';
import {
  CALLBACK,
  consentForm,
  csrfOf,
  registerClient,
  signIn,
  signInInBrowser,
  startAuthorization,
  startAuthorizationInBrowser,
  subjectAt,
} from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();
const browser = useBrowser();

/** The CSP directives of a response, by name. */
function csp(res: { headers: Headers }): Map<string, string[]> {
  const header = res.headers.get('content-security-policy') ?? '';
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

test('discovery advertises form_post', async (t) => {
  const meta = await (await fetch(`${app.url}/oidc/.well-known/openid-configuration`)).json();
  t.true(meta.response_modes_supported.includes('form_post'));
});

test('the form_post answer may post to the redirect URI and run its script, and its code exchanges', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email', { response_mode: 'form_post' });
  const consent = await signIn(auth, person.person.handle, person.person.password);
  const answered = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, {
    form: consentForm(csrfOf(consent.page.text), ['openid', 'email']),
  });
  t.is(answered.status, 303);
  const { res } = await auth.agent.follow(answered);
  t.is(res.status, 200, res.text.slice(0, 300));
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  const action = /<form method="post" action="([^"]+)">/.exec(res.text)?.[1];
  t.is(action, CALLBACK);

  const directives = csp(res);
  t.deepEqual(directives.get('form-action'), ["'self'", new URL(CALLBACK).origin], 'the form may go to the service, and nowhere else');
  const script = /<script>([\s\S]*?)<\/script>/.exec(res.text)?.[1] ?? '';
  t.true(directives.get('script-src')?.includes(`'sha256-${createHash('sha256').update(script).digest('base64')}'`), 'the submitting script may run');
  t.deepEqual(directives.get('default-src'), ["'self'"]);

  // What the browser would post, as the service receives it.
  const inputs = new URLSearchParams([...res.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]));
  t.truthy(inputs.get('code'));
  const posted = new Request(CALLBACK, { method: 'POST', body: inputs, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const tokens = await client.authorizationCodeGrant(config, posted, { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
  t.is(tokens.claims()?.sub, await subjectAt(app, config, person.user_id));
});

test("the login page keeps form-action to itself, the consent page adds only the redirect URI's origin", async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const signedIn = await browser.newContext();
  const fresh = await browser.newContext();
  t.teardown(() => Promise.all([signedIn.close(), fresh.close()]));
  const auth = await startAuthorizationInBrowser(signedIn, config, 'openid email');
  const consent = await signInInBrowser(auth, person.person);
  t.deepEqual(csp(consent.page).get('form-action'), ["'self'", new URL(CALLBACK).origin], 'the consent page already allows its redirect');
  const login = await startAuthorizationInBrowser(fresh, config, 'openid email');
  t.deepEqual(csp(login.page).get('form-action'), ["'self'"], 'the login page posts to itself only');
});

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

// The browser is what enforces the CSP: it posts the form to a listening service.
test('in headless Chromium, the form_post page posts the code to the service', async (t) => {
  let posted: (body: URLSearchParams) => void = () => {};
  const arrived = new Promise<URLSearchParams>((resolve) => (posted = resolve));
  const service = createServer(async (req, res) => {
    if (req.method === 'POST') posted(new URLSearchParams(await read(req)));
    res.end('ok');
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  const callback = `http://127.0.0.1:${(service.address() as { port: number }).port}/callback`;
  const context = await browser.newContext();
  try {
    const person = await registerPerson(app);
    const { config } = await registerClient(app, 'government', { redirectUris: [callback] });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: callback,
      scope: 'openid email',
      response_mode: 'form_post',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => m.type() === 'error' && blocked.push(m.text()));
    await page.goto(url.href);
    await page.getByLabel('E-mail or handle').fill(person.person.handle);
    await page.getByLabel('Password').fill(person.person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#allow').click();
    const body = await Promise.race([
      arrived,
      new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`nothing posted: ${blocked.join('; ')}`)), 10_000)),
    ]);
    t.is(body.get('state'), state);
    const request = new Request(callback, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const tokens = await client.authorizationCodeGrant(config, request, { pkceCodeVerifier: verifier, expectedState: state });
    t.is(tokens.claims()?.sub, await subjectAt(app, config, person.user_id));
  } finally {
    await context.close();
    service.close();
  }
});
