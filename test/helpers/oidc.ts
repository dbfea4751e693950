/**
 * The OpenID test kit: services registered in the registry and played by openid-client, and a person walking the
 * real login and consent pages — either through `UserAgent` (a cookie jar over HTTP, for tests whose point is the
 * protocol) or in headless Chromium (`authorizeInBrowser`, for tests whose point is what a browser does: cookies,
 * CSP, redirects). Also the checks of the provider's JWTs against its published JWKS, and its rows of a person.
 */
import test from 'ava';
import { createPublicKey, createVerify, verify as verifySignature, type JsonWebKey } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { registerService, type Service, type ServiceInput } from '../../src/oidc/services.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import { ARTIFACTS, type TestApp, type TestResponse } from './app.ts';
import { standIn } from './stand-in.ts';

/** A redirect URI nobody listens on: the user agent reads the code from the redirect and never follows it. */
export const CALLBACK = 'http://127.0.0.1:9/callback';

/** Who signs in on the login page. */
export interface Credentials {
  handle: string;
  password: string;
}

export interface Callback {
  url: string;
  close(): Promise<void>;
}

/** The service's redirect URI: a real listener that only answers, so a browser lands somewhere. */
export async function startCallback(): Promise<Callback> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The test file's redirect URI listener, started before its tests (after the app) and closed after them. */
export function useCallback(): Callback {
  const callback = standIn<Callback>('the callback listener');
  let started: Callback | undefined;
  test.serial.before(async () => {
    started = await startCallback();
    callback.set(started);
  });
  test.after.always(async () => {
    await started?.close();
  });
  return callback.value;
}

export interface ServiceOptions {
  name?: string;
  scope?: string;
  /** By default [CALLBACK]. */
  redirectUris?: string[];
  backchannelLogoutUri?: string;
}

/** Registers a service of `role` straight in the registry, as `npm run services -- add` does. */
export function addService(
  app: Pick<TestApp, 'service'>,
  role: string,
  options: ServiceOptions = {},
): Promise<{ service: Service; clientSecret: string }> {
  const deps = app.service.deps;
  const input: ServiceInput = {
    name: options.name ?? `Test ${role} service`,
    role,
    redirectUris: options.redirectUris ?? [CALLBACK],
    scope: options.scope,
    backchannelLogoutUri: options.backchannelLogoutUri,
  };
  return registerService(deps.db, input, new Set(deps.policy.policies.roles.keys()), supportedScopes(deps.policy.policies));
}

export interface RegisteredClient {
  service: Service;
  clientSecret: string;
  config: client.Configuration;
}

/** Registers a service of `role` in the registry and discovers the provider as that service. */
export async function registerClient(app: TestApp, role: string, options: ServiceOptions = {}): Promise<RegisteredClient> {
  const { service, clientSecret } = await addService(app, role, options);
  return { service, clientSecret, config: await discover(app, service.client_id, clientSecret) };
}

export function discover(app: TestApp, clientId: string, clientSecret: string): Promise<client.Configuration> {
  return client.discovery(new URL(`${app.url}/oidc`), clientId, clientSecret, undefined, { execute: [client.allowInsecureRequests] });
}

export function dataResource(app: TestApp): string {
  return `${app.config.baseUrl}/api/v1/data`;
}

/** A token the service holds as itself (client credentials, for the data API): the serviceClientToken scheme. */
export async function serviceClientToken(app: TestApp, registered: Pick<RegisteredClient, 'config'>): Promise<string> {
  return (await client.clientCredentialsGrant(registered.config, { resource: dataResource(app) })).access_token;
}

/** A service's authorization request: PKCE, state, and `prompt=consent` with offline_access, as OIDC asks. */
async function authorizationRequest(config: client.Configuration, redirectUri: string, scope: string, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    // OpenID Connect grants offline_access only when consent is asked for explicitly.
    ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    ...extra,
  });
  return { url, verifier, state };
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** A person's browser, reduced to what the flow needs: a cookie jar that honours cookie paths, and manual redirects. */
export class UserAgent {
  readonly #app: TestApp;
  #cookies: Cookie[] = [];

  constructor(app: TestApp) {
    this.#app = app;
  }

  cookieHeader(path: string): string {
    return this.#cookies
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  keep(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attr('path') ?? '/';
      const expires = attr('expires');
      this.#cookies = this.#cookies.filter((c) => !(c.name === name && c.path === path));
      if (value !== '' && !(expires && new Date(expires).getTime() <= Date.now())) this.#cookies.push({ name, value, path });
    }
  }

  /** A request through the app's spec-checking client, with this agent's cookies; Set-Cookie is kept. */
  async request(method: string, target: string, options: { form?: URLSearchParams; unchecked?: boolean } = {}): Promise<TestResponse> {
    const url = new URL(target, this.#app.url);
    const path = `${url.pathname}${url.search}`;
    const cookie = this.cookieHeader(url.pathname);
    const res = await this.#app.request(method, path, {
      headers: cookie ? { cookie } : {},
      ...(options.form ? { raw: { body: options.form.toString(), type: 'application/x-www-form-urlencoded' } } : {}),
      unchecked: options.unchecked,
    });
    this.keep(res.headers);
    return res;
  }

  /** Follows redirects within the app until a page answers, or a redirect leaves the app (to the service). */
  async follow(res: TestResponse): Promise<{ res: TestResponse; url: URL }> {
    let current = res;
    let url = new URL(this.#app.url);
    for (let hops = 0; hops < 10; hops++) {
      const location = current.headers.get('location');
      if (current.status < 300 || current.status >= 400 || !location) return { res: current, url };
      url = new URL(location, this.#app.url);
      if (url.origin !== this.#app.url) return { res: current, url };
      current = await this.request('GET', url.href);
    }
    throw new Error('too many redirects');
  }
}

/** The CSRF token of a server-rendered form. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token on the page:\n${html.slice(0, 800)}`);
  return match[1];
}

function uidOf(url: URL): string {
  const match = /^\/interaction\/([^/]+)$/.exec(url.pathname);
  if (!match) throw new Error(`not an interaction page: ${url.href}`);
  return match[1];
}

export function loginForm(csrf: string, login: string, password: string): URLSearchParams {
  return new URLSearchParams({ csrf, login, password });
}

export function consentForm(csrf: string, scopes: readonly string[]): URLSearchParams {
  const form = new URLSearchParams({ csrf });
  for (const s of scopes) form.append('scope', s);
  return form;
}

export interface Authorization {
  agent: UserAgent;
  verifier: string;
  state: string;
  /** The login page's interaction. */
  uid: string;
  page: TestResponse;
}

/** A service sends the person (a fresh user agent) to the provider: PKCE, state, and the login page it lands on. */
export async function startAuthorization(
  app: TestApp,
  config: client.Configuration,
  scope: string,
  extra: Record<string, string> = {},
): Promise<Authorization> {
  const agent = new UserAgent(app);
  const { url, verifier, state } = await authorizationRequest(config, CALLBACK, scope, extra);
  const { res, url: landed } = await agent.follow(await agent.request('GET', url.href));
  if (res.status !== 200) throw new Error(`expected the login page, got ${res.status}: ${res.text.slice(0, 300)}`);
  return { agent, verifier, state, uid: uidOf(landed), page: res };
}

/** Signs in on the login page; returns the consent page it leads to and that interaction's uid. */
export async function signIn(auth: Authorization, login: string, password: string): Promise<{ uid: string; page: TestResponse }> {
  const res = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, { form: loginForm(csrfOf(auth.page.text), login, password) });
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`);
  const { res: page, url } = await auth.agent.follow(res);
  if (page.status !== 200) throw new Error(`expected the consent page, got ${page.status}: ${page.text.slice(0, 300)}`);
  return { uid: uidOf(url), page };
}

/**
 * The whole authorization over HTTP: sign in, approve every requested scope but the declined ones, and return the
 * redirect to the service (with the code) plus what the token exchange needs.
 */
export async function authorize(
  app: TestApp,
  config: client.Configuration,
  person: Credentials,
  scope: string,
  options: { decline?: string[]; extra?: Record<string, string> } = {},
): Promise<{ redirected: URL; verifier: string; state: string; consentUid: string }> {
  const auth = await startAuthorization(app, config, scope, options.extra);
  const consent = await signIn(auth, person.handle, person.password);
  const approved = scope.split(' ').filter((s) => !(options.decline ?? []).includes(s));
  const res = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, { form: consentForm(csrfOf(consent.page.text), approved) });
  if (res.status !== 303) throw new Error(`consent failed: ${res.status} ${res.text.slice(0, 300)}`);
  const { url } = await auth.agent.follow(res);
  if (!url.href.startsWith(CALLBACK)) throw new Error(`expected a redirect to the service, got ${url.href}`);
  return { redirected: url, verifier: auth.verifier, state: auth.state, consentUid: consent.uid };
}

/** Authorizes over HTTP and exchanges the code: the service's tokens. */
export async function tokensFor(
  app: TestApp,
  config: client.Configuration,
  person: Credentials,
  scope: string,
  options: { decline?: string[] } = {},
) {
  const flow = await authorize(app, config, person, scope, options);
  return client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
}

/** A page as the browser received it: status, headers (Set-Cookie and CSP included) and text. */
export interface ReceivedPage {
  status: number;
  headers: Headers;
  text: string;
}

async function received(response: Response): Promise<ReceivedPage> {
  const headers = new Headers();
  for (const { name, value } of await response.headersArray()) headers.append(name, value);
  return { status: response.status(), headers, text: await response.text() };
}

/** Whether a response is the browser landing on an interaction page (login or consent). */
const interactionPage = (r: Response) =>
  r.request().isNavigationRequest() && r.status() === 200 && /^\/interaction\/[^/]+$/.test(new URL(r.url()).pathname);

/** In a browser context, a service sends the person to the provider: the tab and the login page it lands on. */
export async function startAuthorizationInBrowser(context: BrowserContext, config: client.Configuration, scope: string, redirectUri = CALLBACK) {
  const { url, verifier, state } = await authorizationRequest(config, redirectUri, scope);
  const tab: Page = await context.newPage();
  const landed = tab.waitForResponse(interactionPage);
  await tab.goto(url.href);
  return { tab, verifier, state, page: await received(await landed) };
}

/** Signs in on the tab's login page; the consent page the browser lands on. */
export async function signInInBrowser(auth: { tab: Page }, person: Credentials): Promise<{ page: ReceivedPage }> {
  const landed = auth.tab.waitForResponse(interactionPage);
  await auth.tab.getByLabel('E-mail or handle').fill(person.handle);
  await auth.tab.getByLabel('Password').fill(person.password);
  await auth.tab.getByRole('button', { name: 'Sign in' }).click();
  return { page: await received(await landed) };
}

/**
 * Drives a fresh browser context through login and consent, to `redirectUri` (which must listen: startCallback);
 * returns the URL the service was redirected to and the consent page's text.
 */
export async function authorizeInBrowser(
  browser: Browser,
  redirectUri: string,
  config: client.Configuration,
  person: Credentials,
  scope: string,
  options: { screenshot?: string; decline?: string[] } = {},
) {
  const { url, verifier, state } = await authorizationRequest(config, redirectUri, scope);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url.href);
    await page.getByLabel('E-mail or handle').fill(person.handle);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#allow');
    if (options.screenshot) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, options.screenshot), fullPage: true });
    }
    const consentText = await page.locator('main').innerText();
    for (const s of options.decline ?? []) await page.locator(`input[type=checkbox][value="${s}"]`).uncheck();
    const landed = page.waitForURL((u) => u.href.startsWith(redirectUri));
    await page.locator('#allow').click();
    await landed;
    return { redirected: new URL(page.url()), verifier, state, consentText };
  } finally {
    await context.close();
  }
}

/**
 * A service of `role` that the person granted `scope` in the browser: its tokens from the code exchange, and an
 * access token for the data API (RFC 8707 resource indicator) from the refresh token.
 */
export async function grantService(app: TestApp, browser: Browser, redirectUri: string, person: Credentials, role: string, scope: string) {
  const registered = await registerClient(app, role, { redirectUris: [redirectUri] });
  const flow = await authorizeInBrowser(
    browser,
    redirectUri,
    registered.config,
    person,
    scope.includes('offline_access') ? scope : `${scope} offline_access`,
  );
  const tokens = await client.authorizationCodeGrant(registered.config, flow.redirected, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
  const dataTokens = await client.refreshTokenGrant(registered.config, tokens.refresh_token!, { resource: dataResource(app) });
  return { ...registered, tokens, dataTokens };
}

export interface Jwks {
  keys: (JsonWebKey & { kid: string; alg?: string; use?: string })[];
}

export async function fetchJwks(app: TestApp): Promise<Jwks> {
  return (await fetch(`${app.url}/oidc/jwks`)).json() as Promise<Jwks>;
}

export function decodeJwt(jwt: string): { header: { alg: string; kid: string; typ?: string }; payload: Record<string, any> } {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

/** Whether the JWT's signature verifies with the key of its `kid` in the JWKS. */
export function verifiesWithJwks(jwt: string, jwks: Jwks): boolean {
  const [h, p, s] = jwt.split('.');
  const { header } = decodeJwt(jwt);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return false;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  if (header.alg === 'RS256') return createVerify('RSA-SHA256').update(data).verify(key, sig);
  if (header.alg === 'ES256') return verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  return false;
}

/** Grants, sessions and tokens the provider holds for a person. */
export async function providerRowsOf(app: TestApp, userId: string): Promise<Partial<Record<string, number>>> {
  const rows = (await app.service.deps.db('oidc_payloads').where({ account_id: userId }).select('kind').count({ n: '*' }).groupBy('kind')) as {
    kind: string;
    n: string | number;
  }[];
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
}
