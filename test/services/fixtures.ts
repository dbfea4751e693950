/**
 * Fixtures of the services tests: people and services to register, a person's user agent that keeps cookies and
 * walks the real login and consent pages over HTTP (the browser itself is exercised by oidc-flow.test.ts), and
 * checks of JWTs against the provider's published JWKS with node:crypto.
 */
import { createPublicKey, createVerify, verify as verifySignature, type JsonWebKey } from 'node:crypto';
import * as client from 'openid-client';
import { listAuditEvents } from '../../src/audit/audit.ts';
import { registerService, type Service } from '../../src/oidc/services.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import type { ExecutionContext } from 'ava';
import type { TestApp, TestResponse } from '../helpers/app.ts';
import { register, type Registered } from '../accounts/fixtures.ts';

export { assertError, register, STRONG_PASSWORD } from '../accounts/fixtures.ts';

/** A redirect URI nobody listens on: the agent reads the code from the redirect and never follows it. */
export const CALLBACK = 'http://127.0.0.1:9/callback';

/** Registers a person and gives them a home address, so a service has something to read. */
export async function registerPerson(app: TestApp): Promise<Registered> {
  const person = await register(app);
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: {
      updated_fields: {
        home_address: { street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z1', country: 'CA' },
        date_of_birth: '1990-12-10',
      },
    },
  });
  if (update.status !== 200) throw new Error(`update failed: ${update.text}`);
  return person;
}

/** Makes a registered person an operator, as `npm run services -- operator <handle>` does. */
export async function makeOperator(app: TestApp, person: Registered): Promise<void> {
  await app.service.deps.db('users').where({ id: person.user_id }).update({ is_operator: true });
}

export interface RegisteredClient {
  service: Service;
  clientSecret: string;
  config: client.Configuration;
}

/** Registers a service straight in the registry and discovers the provider as that service. */
export async function registerClient(
  app: TestApp,
  role: string,
  extra: { scope?: string; backchannelLogoutUri?: string; redirectUris?: string[] } = {},
): Promise<RegisteredClient> {
  const deps = app.service.deps;
  const { service, clientSecret } = await registerService(
    deps.db,
    { name: `Test ${role} service`, role, redirectUris: extra.redirectUris ?? [CALLBACK], scope: extra.scope, backchannelLogoutUri: extra.backchannelLogoutUri },
    new Set(deps.policy.policies.roles.keys()),
    supportedScopes(deps.policy.policies),
  );
  return { service, clientSecret, config: await discover(app, service.client_id, clientSecret) };
}

export function discover(app: TestApp, clientId: string, clientSecret: string): Promise<client.Configuration> {
  return client.discovery(new URL(`${app.url}/oidc`), clientId, clientSecret, undefined, { execute: [client.allowInsecureRequests] });
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

export function uidOf(url: URL): string {
  const match = /^\/interaction\/([^/]+)$/.exec(url.pathname);
  if (!match) throw new Error(`not an interaction page: ${url.href}`);
  return match[1];
}

export interface Authorization {
  agent: UserAgent;
  verifier: string;
  state: string;
  /** The login page's interaction. */
  uid: string;
  page: TestResponse;
}

/** A service sends the person to the provider: PKCE, state, and the login page it lands on. */
export async function startAuthorization(app: TestApp, config: client.Configuration, scope: string, extra: Record<string, string> = {}): Promise<Authorization> {
  const agent = new UserAgent(app);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    ...extra,
  });
  const { res, url: landed } = await agent.follow(await agent.request('GET', url.href));
  if (res.status !== 200) throw new Error(`expected the login page, got ${res.status}: ${res.text.slice(0, 300)}`);
  return { agent, verifier, state, uid: uidOf(landed), page: res };
}

export function loginForm(csrf: string, login: string, password: string): URLSearchParams {
  return new URLSearchParams({ csrf, login, password });
}

export function consentForm(csrf: string, scopes: readonly string[]): URLSearchParams {
  const form = new URLSearchParams({ csrf });
  for (const s of scopes) form.append('scope', s);
  return form;
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
 * The whole authorization: sign in, approve every requested scope but the declined ones, and return the redirect
 * to the service (with the code) plus what the token exchange needs.
 */
export async function authorize(
  app: TestApp,
  config: client.Configuration,
  person: Registered,
  scope: string,
  options: { decline?: string[]; extra?: Record<string, string> } = {},
): Promise<{ redirected: URL; verifier: string; state: string; consentUid: string }> {
  const auth = await startAuthorization(app, config, scope, options.extra);
  const consent = await signIn(auth, person.person.handle, person.person.password);
  const approved = scope.split(' ').filter((s) => !(options.decline ?? []).includes(s));
  const res = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, { form: consentForm(csrfOf(consent.page.text), approved) });
  if (res.status !== 303) throw new Error(`consent failed: ${res.status} ${res.text.slice(0, 300)}`);
  const { url } = await auth.agent.follow(res);
  if (!url.href.startsWith(CALLBACK)) throw new Error(`expected a redirect to the service, got ${url.href}`);
  return { redirected: url, verifier: auth.verifier, state: auth.state, consentUid: consent.uid };
}

/** Authorizes and exchanges the code: the service's tokens. */
export async function tokensFor(app: TestApp, config: client.Configuration, person: Registered, scope: string, options: { decline?: string[] } = {}) {
  const flow = await authorize(app, config, person, scope, options);
  return client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
}

/**
 * The JSON body of a response fetched by openid-client (not through app.request), checked against openapi.yaml as
 * every response a test sees is.
 */
export async function specCheckedJson(t: ExecutionContext, app: TestApp, method: string, path: string, res: Response): Promise<any> {
  const body = await res.json();
  const { spec } = app.service.deps;
  const op = spec.findOperation(method, path);
  if (!op) throw new Error(`no operation for ${method} ${path} in openapi.yaml`);
  t.deepEqual(spec.validateResponse(op, res.status, res.headers.get('content-type') ?? '', body), [], 'the response matches openapi.yaml');
  return body;
}

export function dataResource(app: TestApp): string {
  return `${app.config.baseUrl}/api/v1/data`;
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

/** Audit events of one action, oldest first. */
export async function auditOf(app: TestApp, action: string, subject?: string) {
  return (await listAuditEvents(app.service.deps.db, { action, subject, limit: 1000 })).reverse();
}

/** The checks every refusal page passes: HTML for a person, with its message, under the strict CSP, no internals. */
export function assertPage(t: ExecutionContext, res: TestResponse, status: number, message?: RegExp): string {
  t.is(res.status, status, res.text.slice(0, 500));
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/, 'a browser gets a page, never JSON');
  t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  t.notRegex(res.text, /\bat [\w.<>]+ \(|node_modules|Error:|\{"status"/, 'no stack trace or envelope on the page');
  const shown = /<p class="error" role="alert">([^<]*)<\/p>/.exec(res.text)?.[1] ?? '';
  if (message) t.regex(shown, message);
  return shown;
}

/** Grants, sessions and tokens the provider holds for a person. */
export async function providerRowsOf(app: TestApp, userId: string): Promise<Partial<Record<string, number>>> {
  const rows = (await app.service.deps.db('oidc_payloads').where({ account_id: userId }).select('kind').count({ n: '*' }).groupBy('kind')) as {
    kind: string;
    n: string | number;
  }[];
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
}
