/**
 * Passkeys end to end in real headless Chromium with a CDP virtual authenticator (an internal platform
 * authenticator with user verification): register a passkey on the passkeys page, sign in with it, see a sign-in
 * whose user verification fails refused, and a captured answer replayed refused.
 */
import test from 'ava';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import * as client from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';
import path from 'node:path';
import { hashToken } from '../../src/crypto/tokens.ts';
import { ARTIFACTS, startTestApp, type TestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { useBrowser } from '../helpers/browser.ts';
import { freePort } from '../helpers/postgres.ts';
import { addService } from '../helpers/oidc.ts';
import { auditEvents, register, type Registered } from '../accounts/fixtures.ts';

const browser = useBrowser();
let app: TestApp;
let origin: string;
let servers: Server[] = [];

// WebAuthn needs a domain as its relying party, never an IP address: the app's BASE_URL is http://localhost:<port>,
// served on that port too.
test.serial.before(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  app = await startTestApp({ env: { BASE_URL: origin } });
  for (const host of ['127.0.0.1', '::1']) {
    const server = app.service.app.listen(port, host);
    const ok = await new Promise<boolean>((resolve) => {
      server.once('listening', () => resolve(true));
      server.once('error', () => resolve(false));
    });
    if (ok) servers.push(server);
  }
});
test.after.always(async () => {
  for (const server of servers) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }
  servers = [];
  await app?.close();
});

/** A tab with a CDP virtual authenticator: internal (platform), discoverable credentials, user verification. */
async function tabWithAuthenticator(context: BrowserContext) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp, authenticatorId };
}

/** On the passkeys page: signs in with the password and adds a passkey named `name`. */
async function addPasskeyOnPage(page: Page, person: Registered, name: string): Promise<void> {
  await page.goto(`${origin}/account/passkeys`);
  await page.locator('#login').fill(person.person.handle);
  await page.locator('#password').fill(person.person.password);
  await page.getByRole('button', { name: 'Sign in with your password' }).click();
  await page.waitForSelector('body[data-signed-in]');
  await page.locator('#passkey-name').fill(name);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Passkey added.');
}

test.serial('register a passkey, sign in with it, and a failed user verification is refused', async (t) => {
  const person = await register(app);
  const db = app.service.deps.db;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const page$ = await page.goto(`${origin}/account/passkeys`);
    t.regex(page$?.headers()['content-security-policy'] ?? '', /default-src 'none'.*script-src 'self'/);
    t.notRegex(await page.content(), /<script>(?!<\/script>)/, 'no inline script');

    await page.locator('#login').fill(person.person.handle);
    await page.locator('#password').fill(person.person.password);
    await page.getByRole('button', { name: 'Sign in with your password' }).click();
    await page.waitForSelector('body[data-signed-in]');
    await page.locator('#passkey-name').fill('My laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Passkey added.');
    await page.waitForSelector('#passkeys li');
    t.regex((await page.locator('#passkeys').textContent()) ?? '', /My laptop \(last used: never\)/);

    const stored = await db('passkeys').where({ user_id: person.user_id });
    t.is(stored.length, 1);
    t.deepEqual(Object.keys(stored[0]).sort(), [
      'counter',
      'created_at',
      'credential_id',
      'id',
      'last_used_at',
      'name',
      'public_key',
      'transports',
      'user_id',
    ]);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    t.is(credentials.length, 1);
    t.true(credentials[0].isResidentCredential, 'a discoverable credential, so sign-in needs no username');
    t.is(Buffer.from(credentials[0].credentialId, 'base64').toString('base64url'), stored[0].credential_id);

    // Sign in with the passkey, capturing what the page sends.
    let answer: unknown;
    page.on('request', (req) => {
      if (req.url().endsWith('/api/v1/auth/passkey') && req.method() === 'POST') answer = req.postDataJSON();
    });
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForSelector('body[data-signed-in="a passkey"]');
    await page.waitForSelector('#passkeys li');
    t.regex((await page.locator('#passkeys').textContent()) ?? '', /My laptop \(last used: \d{4}-/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'passkeys-page.png'), fullPage: true });
    const passkeySessions = await db('sessions').where({ user_id: person.user_id, auth_method: 'passkey' });
    t.is(passkeySessions.length, 1, 'the passkey sign-in is a session authenticated by a passkey');
    t.truthy((await db('passkeys').where({ user_id: person.user_id }).first()).last_used_at);

    // The answer the page sent, replayed: its challenge is spent.
    t.truthy(answer);
    assertError(t, await app.request('POST', '/api/v1/auth/passkey', { json: answer }), 401, 'challenge_used');

    // A login gone stale steps up with the passkey (options asked for with the session name only its passkeys).
    const other = await app.request('POST', '/api/v1/users/login', { json: { handle: person.person.handle, password: person.person.password } });
    await db('sessions')
      .where({ access_hash: hashToken(other.body.token) })
      .update({ auth_at: new Date(Date.now() - 3600_000) });
    assertError(t, await app.request('POST', '/api/v1/auth/logout-all', { token: other.body.token }), 401, 'step_up_required');
    const stepped = await page.evaluate(async (token) => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      const { options } = await (await fetch('/api/v1/auth/passkey/options', { method: 'POST', headers, body: '{}' })).json();
      // biome-ignore lint/suspicious/noExplicitAny: the page's global from @simplewebauthn/browser's bundle
      const response = await (window as any).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options });
      const res = await fetch('/api/v1/auth/step-up', { method: 'POST', headers, body: JSON.stringify({ method: 'passkey', response }) });
      return { status: res.status, body: await res.json() };
    }, other.body.token as string);
    t.is(stepped.status, 200, JSON.stringify(stepped.body));
    t.is(stepped.body.method, 'passkey');
    t.is(
      (
        await db('sessions')
          .where({ access_hash: hashToken(other.body.token) })
          .first()
      ).auth_method,
      'passkey',
    );

    // The device no longer verifies its user: the ceremony fails and no session is made.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    const before = (await db('sessions').where({ user_id: person.user_id })).length;
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForSelector('#status[data-outcome="error"]');
    t.regex((await page.locator('#status').textContent()) ?? '', /did not confirm it was you/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'passkeys-uv-failed.png'), fullPage: true });
    t.is((await db('sessions').where({ user_id: person.user_id })).length, before, 'no session for an unverified user');
    t.is(await page.evaluate(() => document.body.dataset.signedIn), undefined);

    // A client that asks the device not to verify its user (its options tampered with on the way) gets an answer
    // without user verification: the server refuses it.
    await page.route('**/api/v1/auth/passkey/options', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      body.options.userVerification = 'discouraged';
      await route.fulfill({ response: res, json: body });
    });
    await page.reload();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForSelector('#status[data-outcome="error"]');
    t.regex((await page.locator('#status').textContent()) ?? '', /passkey was refused: .*[Uu]ser verification/);
    t.is((await db('sessions').where({ user_id: person.user_id })).length, before, 'no session without user verification');
    t.true((await auditEvents(app, 'passkey.refused')).some((e) => e.subject === `user:${person.user_id}`));
  } finally {
    await context.close();
  }
});

/** An authorization request of a government service, as its URL at the provider. */
async function authorizationUrl(): Promise<URL> {
  const redirectUri = 'https://rp.example/callback';
  const { service, clientSecret } = await addService(app, 'government', { redirectUris: [redirectUri] });
  const config = await client.discovery(new URL(`${origin}/oidc`), service.client_id, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  return client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
}

/** The amr of the person's browser session at the provider, once it exists. */
async function providerAmr(userId: string): Promise<unknown> {
  const session = await app.service.deps.db('oidc_payloads').where({ kind: 'Session', account_id: userId }).first();
  if (!session) return undefined;
  return (typeof session.payload === 'string' ? JSON.parse(session.payload) : session.payload).amr;
}

test.serial('the provider’s login page: its button signs in with a passkey, and the authorization goes on to consent', async (t) => {
  const person = await register(app);
  const context = await browser.newContext();
  try {
    const { page } = await tabWithAuthenticator(context);
    await addPasskeyOnPage(page, person, 'Phone');
    // This browser without conditional UI: the page offers the button alone.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const login = await page.goto((await authorizationUrl()).href);
    t.regex(new URL(page.url()).pathname, /^\/interaction\/[^/]+$/);
    t.regex(login?.headers()['content-security-policy'] ?? '', /default-src 'none'.*script-src 'self'/);
    t.is(await page.locator('#login').getAttribute('autocomplete'), 'username webauthn', 'conditional UI: the username field offers passkeys');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'provider-login-passkey.png'), fullPage: true });
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForSelector('#allow');
    t.regex((await page.locator('main').textContent()) ?? '', /asks to see parts of your profile/);
    t.deepEqual(await providerAmr(person.user_id), ['hwk', 'user'], 'signed in at the provider by a user-verified passkey');
  } finally {
    await context.close();
  }
});

test.serial('the provider’s login page: conditional UI signs in with the passkey the browser offers', async (t) => {
  const person = await register(app);
  const context = await browser.newContext();
  try {
    const { page } = await tabWithAuthenticator(context);
    await addPasskeyOnPage(page, person, 'Laptop');
    // The virtual authenticator answers the page's conditional request itself, as a person picking the offered
    // passkey in the username field would.
    await page.goto((await authorizationUrl()).href);
    await page.waitForSelector('#allow');
    t.deepEqual(await providerAmr(person.user_id), ['hwk', 'user']);
  } finally {
    await context.close();
  }
});
