/**
 * Consenting again, in the same browser: each consent replaces the service's earlier grant, so each one must
 * succeed and give working tokens, and the tokens of the grant it replaced must stop working. (The in-flight
 * interaction names the grant it extends; destroying that grant once took the interaction with it, and every
 * other consent ended on the 400 page.)
 *
 * The person is driven by a `PersonBrowser`: the hand-driven user agent (real cookies over HTTP) always, and
 * headless Chromium through the same scenario where the machine has one.
 */
import test, { type ExecutionContext } from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { consentForm, csrfOf, dataResource, loginForm, providerRowsOf, registerClient, useCallback, UserAgent, subjectAt } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';
import type { Registered } from '../accounts/fixtures.ts';

const app = useTestApp();
const callback = useCallback();

/** A person's browser across several authorizations: one cookie jar, so they sign in once and the session carries over. */
interface PersonBrowser {
  /** Opens the authorization URL, signs in when asked, approves every requested scope; the redirect to the service. */
  consent(authorizationUrl: URL): Promise<URL>;
  close(): Promise<void>;
}

/** The hand-driven user agent: real cookies, the real pages over HTTP, each redirect followed by hand. */
function agentBrowser(person: Registered): PersonBrowser & { agent: UserAgent } {
  const agent = new UserAgent(app);
  return {
    agent,
    async consent(authorizationUrl) {
      let { res, url } = await agent.follow(await agent.request('GET', authorizationUrl.href));
      if (res.status !== 200) throw new Error(`expected a page, got ${res.status}: ${res.text.slice(0, 300)}`);
      if (res.text.includes('name="password"')) {
        const login = await agent.request('POST', `${url.pathname}/login`, {
          form: loginForm(csrfOf(res.text), person.person.handle, person.person.password),
        });
        ({ res, url } = await agent.follow(login));
      }
      if (res.status !== 200 || !res.text.includes('id="allow"'))
        throw new Error(`expected the consent page, got ${res.status}: ${res.text.slice(0, 500)}`);
      const scopes = [...res.text.matchAll(/type="checkbox" id="[^"]+" name="scope" value="([^"]+)"/g)].map((m) => m[1]);
      const answered = await agent.request('POST', `${url.pathname}/consent`, { form: consentForm(csrfOf(res.text), scopes) });
      if (answered.status !== 303) throw new Error(`consent failed: ${answered.status} ${answered.text.slice(0, 500)}`);
      const { url: landed } = await agent.follow(answered);
      if (!landed.href.startsWith(callback.url)) throw new Error(`expected a redirect to the service, got ${landed.href}`);
      return landed;
    },
    close: async () => {},
  };
}

/** Headless Chromium, one browser context (one cookie jar) for every authorization. */
async function chromiumBrowser(person: Registered): Promise<PersonBrowser> {
  const browser = await launchBrowser();
  const context = await browser.newContext();
  return {
    async consent(authorizationUrl) {
      const page = await context.newPage();
      try {
        await page.goto(authorizationUrl.href);
        if ((await page.locator('#password').count()) > 0) {
          await page.getByLabel('E-mail or handle').fill(person.person.handle);
          await page.getByLabel('Password').fill(person.person.password);
          await page.getByRole('button', { name: 'Sign in' }).click();
        }
        await page.waitForSelector('#allow');
        const landed = page.waitForURL((u) => u.href.startsWith(callback.url));
        await page.locator('#allow').click();
        await landed;
        return new URL(page.url());
      } finally {
        await page.close();
      }
    },
    async close() {
      await context.close();
      await browser.close();
    },
  };
}

async function consentFourTimes(t: ExecutionContext, open: (person: Registered) => Promise<PersonBrowser> | PersonBrowser) {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government', { redirectUris: [callback.url] });
  const browser = await open(person);
  try {
    let earlier: { access: string; refresh: string; data: string } | undefined;
    for (let round = 1; round <= 4; round++) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: callback.url,
        scope: 'openid email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        // The service asks for consent again, as it must for offline_access.
        prompt: 'consent',
      });
      const redirected = await browser.consent(url);
      t.is(redirected.searchParams.get('error'), null, `round ${round}: ${redirected.searchParams.get('error_description')}`);
      const tokens = await client.authorizationCodeGrant(config, redirected, { pkceCodeVerifier: verifier, expectedState: state });
      t.is(tokens.claims()?.sub, await subjectAt(app, config, person.user_id), `round ${round}`);
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
      t.is(userinfo.email, person.person.email, `round ${round}: the new access token works at userinfo`);
      const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
      const profile = await app.request('GET', '/api/v1/data/profile', { token: data.access_token });
      t.is(profile.status, 200, `round ${round}: ${profile.text}`);
      t.is(profile.body.fields.email, person.person.email);

      if (earlier) {
        const stale = await app.request('GET', '/api/v1/data/profile', { token: earlier.data });
        t.is(stale.status, 401, `round ${round}: the replaced grant's data token no longer works`);
        await t.throwsAsync(
          client.fetchUserInfo(config, earlier.access, await subjectAt(app, config, person.user_id)),
          undefined,
          `round ${round}: nor its userinfo token`,
        );
        const refused = await t.throwsAsync(client.refreshTokenGrant(config, earlier.refresh));
        t.is((refused as { error?: string }).error, 'invalid_grant', `round ${round}: nor its refresh token`);
      }
      earlier = { access: tokens.access_token, refresh: data.refresh_token ?? tokens.refresh_token!, data: data.access_token };
    }
    const rows = await providerRowsOf(app, person.user_id);
    t.is(rows.Grant, 1, 'one live grant: each consent replaced the one before');
    const live = await app.service.deps
      .db('oidc_payloads')
      .where({ kind: 'Grant', account_id: person.user_id, client_id: service.client_id })
      .count({ n: '*' })
      .first();
    t.is(Number(live?.n), 1);
  } finally {
    await browser.close();
  }
}

test.serial('consenting four times in a row in one browser (hand-driven user agent): each consent succeeds, each replaced grant dies', async (t) => {
  await consentFourTimes(t, agentBrowser);
});

// The same scenario in a real browser, where the machine has one.
test.serial('consenting four times in a row in headless Chromium', async (t) => {
  await consentFourTimes(t, chromiumBrowser);
});

test.serial('a consent in flight survives the revocation of the grant it would replace, and can still be answered', async (t) => {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government', { redirectUris: [callback.url] });
  const browser = agentBrowser(person);
  const start = async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: callback.url,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      prompt: 'consent',
    });
    return { url, verifier, state };
  };
  const first = await start();
  await client.authorizationCodeGrant(config, await browser.consent(first.url), { pkceCodeVerifier: first.verifier, expectedState: first.state });

  // The second authorization stops at the consent page, whose interaction names the first grant …
  const second = await start();
  const { agent } = browser;
  const { res: page, url: at } = await agent.follow(await agent.request('GET', second.url.href));
  t.true(page.text.includes('id="allow"'), page.text.slice(0, 300));
  // … which the person revokes meanwhile, from their account.
  const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoked.status, 200, revoked.text);
  t.is(revoked.body.revoked.grants, 1);

  const answered = await agent.request('POST', `${at.pathname}/consent`, { form: consentForm(csrfOf(page.text), ['openid', 'email']) });
  t.is(answered.status, 303, answered.text.slice(0, 300));
  const { url: landed } = await agent.follow(answered);
  t.true(landed.href.startsWith(callback.url), landed.href);
  const tokens = await client.authorizationCodeGrant(config, landed, { pkceCodeVerifier: second.verifier, expectedState: second.state });
  t.is((await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id))).email, person.person.email);
});
