/**
 * The authorization code flow with real parts, for any test that needs a service's tokens: a service registered in
 * the registry and played by openid-client, a redirect URI that really listens, and a person signing in and
 * consenting on the real pages in headless Chromium.
 */
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { registerService, type Service } from '../../src/oidc/services.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import { ARTIFACTS, type TestApp } from './app.ts';

export interface Callback {
  url: string;
  close(): Promise<void>;
}

/** The service's redirect URI: a real listener that only answers, so the browser lands somewhere. */
export async function startCallback(): Promise<Callback> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface RegisteredClient {
  config: client.Configuration;
  service: Service;
  clientSecret: string;
}

/** Registers a service of `role` in the registry and discovers the provider as that service. */
export async function registerClient(app: TestApp, callbackUrl: string, role: string, scope?: string): Promise<RegisteredClient> {
  const deps = app.service.deps;
  const { service, clientSecret } = await registerService(
    deps.db,
    { name: `Test ${role} service`, role, redirectUris: [callbackUrl], ...(scope ? { scope } : {}) },
    new Set(deps.policy.policies.roles.keys()),
    supportedScopes(deps.policy.policies),
  );
  const config = await client.discovery(new URL(`${app.url}/oidc`), service.client_id, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  return { config, service, clientSecret };
}

/** Drives the browser through login and consent; returns the URL the service was redirected to. */
export async function authorize(
  browser: Browser,
  callbackUrl: string,
  config: client.Configuration,
  person: { handle: string; password: string },
  scope: string,
  options: { screenshot?: string; decline?: string[] } = {},
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    // OpenID Connect grants offline_access only when consent is asked for explicitly.
    ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
  });
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
    const landed = page.waitForURL((u) => u.href.startsWith(callbackUrl));
    await page.locator('#allow').click();
    await landed;
    return { redirected: new URL(page.url()), verifier, state, consentText };
  } finally {
    await context.close();
  }
}

/**
 * A service of `role` that the person granted `scope` through the real pages: its tokens from the code exchange,
 * and an access token for the data API (RFC 8707 resource indicator) from the refresh token.
 */
export async function grantService(
  app: TestApp,
  browser: Browser,
  callbackUrl: string,
  person: { handle: string; password: string },
  role: string,
  scope: string,
) {
  const registered = await registerClient(app, callbackUrl, role);
  const flow = await authorize(browser, callbackUrl, registered.config, person, scope.includes('offline_access') ? scope : `${scope} offline_access`);
  const tokens = await client.authorizationCodeGrant(registered.config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  const dataTokens = await client.refreshTokenGrant(registered.config, tokens.refresh_token!, { resource: `${app.config.baseUrl}/api/v1/data` });
  return { ...registered, tokens, dataTokens };
}
