/**
 * Transport and headers (issue 7): a Content-Security-Policy on every response; `Cache-Control: no-store` on every
 * response that carries personal data or tokens; the provider's cookies HttpOnly and SameSite, and Secure when the
 * service is on https (an instance served over TLS with a self-signed certificate); and HSTS only over TLS.
 * The cookies are looked at as headless Chromium receives them in a real flow.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import type { Operation } from '../../src/http/openapi.ts';
import { createDatabase, logFileFor, spec, useTestApp } from '../helpers/app.ts';
import { useBrowser } from '../helpers/browser.ts';
import { addService } from '../helpers/oidc.ts';
import { multipartBody, send, type RawResponse } from './http.ts';
import { recordSecrets, secretValues } from './secrets.ts';

const PASSWORD = 'headers are part of the contract';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** An instance the tests can call: its base URL, its deps, whether it is served over TLS. */
interface Instance {
  base: string;
  service: Service;
  tls: boolean;
  close(): Promise<void>;
}

const plain = useTestApp({ name: 'security-headers' });
const browser = useBrowser();
let secure: Instance;

/** A self-signed certificate for 127.0.0.1 (node-forge, as the PKI code uses), valid for a day. */
function selfSigned(): { key: string; cert: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: 'commonName', value: '127.0.0.1' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

/** The same service, with an https BASE_URL, served over TLS. */
async function startTlsInstance(): Promise<Instance> {
  const database = await createDatabase();
  const tls = selfSigned();
  recordSecrets('security-headers', tls.key);
  const server = https.createServer({ key: tls.key, cert: tls.cert });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = `https://127.0.0.1:${port}`;
  // An https BASE_URL needs TRUST_PROXY=true, which main.ts's plain-HTTP listener behind a proxy relies on; served
  // over TLS directly, as here, the socket itself says the request is secure.
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, LOG_LEVEL: 'info', BASE_URL: base, TRUST_PROXY: 'true' });
  const kek = randomBytes(32);
  recordSecrets('security-headers', kek.toString('hex'), kek.toString('base64'));
  const service = await startService(config, {
    logger: createLogger(config, pino.destination({ dest: logFileFor('security-headers-tls'), sync: true })),
    kek,
    outboxPollMs: 100,
  });
  server.on('request', service.app.callback());
  return {
    base,
    service,
    tls: true,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await service.close();
      await database.drop();
    },
  };
}

const call = (inst: { base: string; tls: boolean }, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string) =>
  send(inst.base, { method, path, headers, body }, { insecureTls: inst.tls });

test.before(async () => {
  secure = await startTlsInstance();
});
test.after.always(async () => {
  await secure?.close();
});

async function registerAt(inst: { base: string; tls: boolean }) {
  const tag = randomBytes(5).toString('hex');
  const res = await call(
    inst,
    'POST',
    '/api/v1/users/register',
    { 'content-type': 'application/json' },
    JSON.stringify({ name: 'Hedy Headers', email: `hedy.${tag}@example.org`, handle: `hedy_${tag}`, password: PASSWORD }),
  );
  if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
  const body = res.json as { token: string; refresh_token: string; user_id: string };
  recordSecrets('security-headers', PASSWORD, body.token, body.refresh_token);
  return { ...body, handle: `hedy_${tag}`, email: `hedy.${tag}@example.org`, res };
}

/** A request for an operation with placeholder parameters, valid enough to reach it. */
function requestFor(op: Operation, ids: { handle: string }) {
  const path = op.path
    .replace('{handle}', ids.handle)
    .replace('{asset}', 'swagger-ui.css')
    .replace(/\{[^}]+\}/g, () =>
      randomBytes(16)
        .toString('base64url')
        .replace(/[^A-Za-z0-9]/g, 'a'),
    );
  const json = op.bodyTypes.includes('application/json') ? '{}' : undefined;
  const headers: Record<string, string> = json ? { 'content-type': 'application/json' } : {};
  return { path, headers, body: json };
}

test('every response carries a Content-Security-Policy, whoever asks and whatever the answer', async (t) => {
  const person = await registerAt({ base: plain.url, tls: false });
  const missing: string[] = [];
  let checked = 0;
  const check = (what: string, res: RawResponse) => {
    checked++;
    const csp = String(res.headers['content-security-policy'] ?? '');
    if (!/default-src/.test(csp) || !/frame-ancestors 'none'|frame-ancestors 'self'/.test(csp)) missing.push(`${what} → ${res.status}`);
    if (res.headers['x-content-type-options'] !== 'nosniff') missing.push(`${what} → ${res.status} without nosniff`);
  };
  for (const op of spec.operations) {
    const req = requestFor(op, { handle: person.handle });
    for (const token of [undefined, person.token]) {
      const res = await call(
        { base: plain.url, tls: false },
        op.method,
        req.path,
        { ...req.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        req.body,
      );
      check(`${op.operationId}${token ? ' (signed in)' : ''}`, res);
    }
  }
  for (const [method, path] of [
    ['GET', '/no/such/path'],
    ['DELETE', '/healthz'],
    ['OPTIONS', '/api/v1/profile'],
    ['GET', '/oidc/.well-known/openid-configuration'],
    ['GET', '/oidc/jwks'],
    ['GET', '/oidc/auth?client_id=nobody'],
    ['POST', '/oidc/token'],
    ['GET', '/oidc/me'],
  ] as const) {
    check(`${method} ${path}`, await call({ base: plain.url, tls: false }, method, path));
  }
  t.log(`${checked} responses checked`);
  t.deepEqual(missing, []);
});

/**
 * Walks the authorization code flow in headless Chromium (one fresh context, so one cookie jar, as a person's
 * browser); returns every Set-Cookie the browser received and every page and redirect of the flow as it saw them.
 */
async function walkFlow(inst: { base: string; tls: boolean }, service: Service) {
  const person = await registerAt(inst);
  const callback = 'http://127.0.0.1:9/callback';
  const { service: client } = await addService({ service }, 'government', { name: 'Cookie jar service', redirectUris: [callback] });
  const jar = new Map<string, string>();
  const setCookies: string[] = [];
  const seen: { what: string; res: { status: number; headers: Record<string, string> } }[] = [];
  let landed: (location: string) => void = () => {};
  const redirectedToService = new Promise<string>((resolve) => (landed = resolve));
  const context = await browser.newContext({ ignoreHTTPSErrors: inst.tls });
  try {
    const page = await context.newPage();
    page.on('response', async (response) => {
      const url = new URL(response.url());
      if (url.origin !== inst.base || !response.request().isNavigationRequest()) return;
      const headers = await response.allHeaders();
      for (const { name, value } of await response.headersArray()) {
        if (name.toLowerCase() !== 'set-cookie') continue;
        setCookies.push(value);
        const [pair] = value.split(';');
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      seen.push({ what: `${response.request().method()} ${url.pathname}`, res: { status: response.status(), headers } });
      if ((headers.location ?? '').startsWith(callback)) landed(headers.location);
    });
    const auth = `${inst.base}/oidc/auth?${new URLSearchParams({ client_id: client.client_id, response_type: 'code', scope: 'openid email', redirect_uri: callback, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'xyz' })}`;
    await page.goto(auth);
    const csrf = await page.locator('input[name=csrf]').inputValue();
    await page.getByLabel('E-mail or handle').fill(person.handle);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#allow');
    const consentCsrf = await page.locator('input[name=csrf]').inputValue();
    // The service's redirect URI does not listen (Chromium will not even try its port): the redirect is enough.
    const [location] = await Promise.all([redirectedToService, page.locator('#allow').click({ noWaitAfter: true })]);
    const code = new URL(location).searchParams.get('code');
    // The interaction cookies hold the interaction's id, which is in its URLs anyway; the others are credentials.
    recordSecrets('security-headers', code, csrf, consentCsrf, ...[...jar].filter(([k]) => !/^_interaction(_resume)?$/.test(k)).map(([, v]) => v));
    return { setCookies, seen, code, person, client };
  } finally {
    await context.close();
  }
}

function cookieFlags(line: string) {
  const attrs = line
    .split(';')
    .slice(1)
    .map((a) => a.trim().toLowerCase());
  return {
    name: line.split('=')[0],
    httpOnly: attrs.includes('httponly'),
    secure: attrs.includes('secure'),
    sameSite: attrs.find((a) => a.startsWith('samesite='))?.slice('samesite='.length),
  };
}

test("the provider's cookies are HttpOnly and SameSite over http, and Secure too over https", async (t) => {
  for (const inst of [{ base: plain.url, tls: false, service: plain.service }, { ...secure }]) {
    const flow = await walkFlow(inst, inst.service);
    t.truthy(flow.code, 'the flow reached the service with a code');
    t.true(flow.setCookies.length >= 3, `cookies were set (${flow.setCookies.length})`);
    for (const line of flow.setCookies) {
      const c = cookieFlags(line);
      t.true(c.httpOnly, `${c.name} is HttpOnly (${inst.base})`);
      t.true(c.sameSite === 'lax' || c.sameSite === 'strict', `${c.name} is SameSite (${inst.base})`);
      t.is(c.secure, inst.tls, `${c.name} is Secure exactly when the service is on https (${inst.base})`);
    }
    // Every page and redirect of the flow carries the CSP, and none may be cached.
    for (const { what, res } of flow.seen) {
      t.regex(String(res.headers['content-security-policy'] ?? ''), /default-src/, `${what} has a CSP`);
      t.regex(String(res.headers['cache-control'] ?? ''), /no-store/, `${what} is not cached`);
    }
    t.log(`${inst.base}: ${flow.setCookies.map((l) => cookieFlags(l).name).join(', ')}`);
  }
});

test('HSTS only over TLS', async (t) => {
  const overHttp = await call({ base: plain.url, tls: false }, 'GET', '/healthz');
  t.is(overHttp.headers['strict-transport-security'], undefined, 'never over plain http');
  for (const path of ['/healthz', '/api/v1/profile', '/oidc/.well-known/openid-configuration', '/no/such/path']) {
    const res = await call(secure, 'GET', path);
    const hsts = String(res.headers['strict-transport-security'] ?? '');
    const maxAge = Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0);
    t.true(maxAge >= 31_536_000, `${path} over TLS sends HSTS for a year (${hsts})`);
  }
});

test('every response carrying personal data or tokens says Cache-Control: no-store', async (t) => {
  const inst = { base: plain.url, tls: false };
  const person = await registerAt(inst);
  const auth = { authorization: `Bearer ${person.token}` };
  const json = { 'content-type': 'application/json' };
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
  const m = multipartBody([{ name: 'avatar', filename: 'a.png', type: 'image/png', data: png }]);
  await call(inst, 'PUT', '/api/v1/profile/avatar', { ...auth, 'content-type': m.type }, m.body);
  await call(
    inst,
    'POST',
    '/api/v1/profile/privilege-rings',
    { ...auth, ...json },
    JSON.stringify({ ring_name: 'private', assigned_data: { fields: ['avatar'] } }),
  );
  const login = await call(inst, 'POST', '/api/v1/users/login', json, JSON.stringify({ email: person.email, password: PASSWORD }));
  recordSecrets('security-headers', ...secretValues(login.json));
  const refresh = await call(
    inst,
    'POST',
    '/api/v1/auth/refresh',
    json,
    JSON.stringify({ refresh_token: (login.json as { refresh_token: string }).refresh_token }),
  );
  recordSecrets('security-headers', ...secretValues(refresh.json));
  const flow = await walkFlow(inst, plain.service);
  const tokenRes = await call(
    inst,
    'POST',
    '/oidc/token',
    {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${flow.client.client_id}:wrong`).toString('base64')}`,
    },
    new URLSearchParams({
      grant_type: 'authorization_code',
      code: flow.code ?? '',
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_verifier: 'x'.repeat(43),
    }).toString(),
  );
  const answers: [string, RawResponse][] = [
    ['register', person.res],
    ['login', login],
    ['refresh', refresh],
    ['/oidc/token', tokenRes],
    ['me', await call(inst, 'GET', '/api/v1/auth/me', auth)],
    ['profile', await call(inst, 'GET', '/api/v1/profile', auth)],
    [
      'update-info',
      await call(inst, 'PUT', '/api/v1/profile/update-info', { ...auth, ...json }, JSON.stringify({ updated_fields: { bio: 'cached nowhere' } })),
    ],
    ['own avatar', await call(inst, 'GET', `/api/v1/profiles/${person.handle}/avatar`, auth)],
    ['statuses', await call(inst, 'GET', '/api/v1/profile/statuses', auth)],
    ['rings', await call(inst, 'GET', '/api/v1/profile/privilege-rings', auth)],
    ['ring policy', await call(inst, 'GET', '/api/v1/profile/privilege-rings/policy', auth)],
    ['visibility', await call(inst, 'GET', '/api/v1/profile/visibility', auth)],
    ['access', await call(inst, 'GET', '/api/v1/profile/access', auth)],
    ['verify', await call(inst, 'POST', '/api/v1/auth/verify', json, JSON.stringify({ token: person.token }))],
    ['public profile', await call(inst, 'GET', `/api/v1/profiles/${person.handle}`)],
    ['directory', await call(inst, 'GET', '/api/v1/profiles')],
    ['an error', await call(inst, 'GET', '/api/v1/profile', { authorization: 'Bearer nope' })],
  ];
  for (const [what, res] of answers) {
    t.regex(String(res.headers['cache-control'] ?? ''), /no-store/, `${what} (${res.status}) may be cached: ${res.headers['cache-control']}`);
  }
  t.true(answers.every(([, r]) => r.status < 500));
});
