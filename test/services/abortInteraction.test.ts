// Deny: the person declines, and the service receives access_denied (and nothing else).
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertPage } from '../helpers/assert.ts';
import { CALLBACK, providerRowsOf, registerClient, signIn, startAuthorization } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();

test('Deny on the login page sends the service error=access_denied with its state', async (t) => {
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  t.regex(auth.page.text, new RegExp(`<a href="/interaction/${auth.uid}/abort">Cancel</a>`));
  const res = await auth.agent.request('GET', `/interaction/${auth.uid}/abort`);
  t.is(res.status, 303);
  const { url } = await auth.agent.follow(res);
  t.true(url.href.startsWith(`${CALLBACK}?`));
  t.is(url.searchParams.get('error'), 'access_denied');
  t.is(url.searchParams.get('state'), auth.state);
  t.is(url.searchParams.get('code'), null);
  const err = await t.throwsAsync(client.authorizationCodeGrant(config, url, { pkceCodeVerifier: auth.verifier, expectedState: auth.state }));
  t.is((err as { error?: string }).error, 'access_denied', 'openid-client reads it as the OAuth error');
});

test('Deny on the consent page sends access_denied and grants nothing', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email address');
  const consent = await signIn(auth, person.person.handle, person.person.password);
  t.regex(consent.page.text, new RegExp(`<a href="/interaction/${consent.uid}/abort" id="deny">Deny</a>`));
  const { url } = await auth.agent.follow(await auth.agent.request('GET', `/interaction/${consent.uid}/abort`));
  t.is(url.searchParams.get('error'), 'access_denied');
  t.is(url.searchParams.get('state'), auth.state);
  t.is((await providerRowsOf(app, person.user_id)).Grant, undefined);
  const access = await app.request('GET', '/api/v1/profile/access', { token: person.token });
  t.deepEqual(access.body.services, []);
});

test('Deny on an unknown or finished interaction gets the 400 page', async (t) => {
  assertPage(t, await app.request('GET', '/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/abort'), 400);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const cookie = auth.agent.cookieHeader(`/interaction/${auth.uid}`);
  await auth.agent.follow(await auth.agent.request('GET', `/interaction/${auth.uid}/abort`));
  assertPage(
    t,
    await app.request('GET', `/interaction/${auth.uid}/abort`, { headers: { cookie } }),
    400,
    /unknown, has expired or is already complete/,
  );
});
