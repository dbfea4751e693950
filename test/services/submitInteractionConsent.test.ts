// Answering the consent page: exactly the approved scopes are granted; forged or over-reaching forms grant nothing.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertPage } from '../helpers/assert.ts';
import { consentForm, csrfOf, dataResource, providerRowsOf, registerClient, signIn, startAuthorization, subjectAt } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();

async function atConsent(scope: string) {
  const person = await registerPerson(app);
  const registered = await registerClient(app, 'government');
  const auth = await startAuthorization(app, registered.config, scope);
  const consent = await signIn(auth, person.person.handle, person.person.password);
  return { person, ...registered, auth, consent };
}

test('a consent naming a scope the service did not request gets the 400 page and grants nothing', async (t) => {
  const { person, auth, consent } = await atConsent('openid email');
  const res = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, {
    form: consentForm(csrfOf(consent.page.text), ['openid', 'email', 'address']),
  });
  assertPage(t, res, 400, /not requested by the service: address/);
  t.is((await providerRowsOf(app, person.user_id)).Grant, undefined, 'no grant saved');
});

test('a forged or missing CSRF token on the consent form gets the 400 page and grants nothing', async (t) => {
  const { person, auth, consent } = await atConsent('openid email');
  const forged = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, { form: consentForm('forged', ['openid', 'email']) });
  assertPage(t, forged, 400, /did not come from Ringfence/);
  const missing = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, { form: new URLSearchParams({ scope: 'email' }) });
  assertPage(t, missing, 400, /did not come from Ringfence/);
  t.is((await providerRowsOf(app, person.user_id)).Grant, undefined);
});

test('consent cannot be answered before signing in', async (t) => {
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const res = await auth.agent.request('POST', `/interaction/${auth.uid}/consent`, {
    form: consentForm(csrfOf(auth.page.text), ['openid', 'email']),
  });
  assertPage(t, res, 400, /sign in before you answer the consent/);
});

test('declining every optional scope grants openid alone: the service learns who, and nothing else', async (t) => {
  const { person, config, auth, consent } = await atConsent('openid email address');
  // One ticked box: the form carries a single scope value.
  const res = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, { form: consentForm(csrfOf(consent.page.text), ['openid']) });
  t.is(res.status, 303);
  const { url } = await auth.agent.follow(res);
  const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
  t.is(tokens.scope, 'openid');
  const claims = tokens.claims()!;
  t.is(claims.sub, await subjectAt(app, config, person.user_id));
  t.is(claims.email, undefined);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  t.deepEqual(Object.keys(userinfo), ['sub']);
  const grants = await app.service.deps.db('oidc_payloads').where({ kind: 'Grant', account_id: person.user_id }).select('payload');
  t.is(grants.length, 1);
  const grant = typeof grants[0].payload === 'string' ? JSON.parse(grants[0].payload) : grants[0].payload;
  t.is(grant.openid.scope, 'openid');
  t.is(grant.rejected.openid.scope, 'email address', 'declined scopes are recorded as rejected, so consent counts as answered');
});

test('the approved scopes are exactly what the data API honours', async (t) => {
  const { person, config, auth, consent } = await atConsent('openid email address offline_access');
  const res = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, {
    form: consentForm(csrfOf(consent.page.text), ['openid', 'email', 'offline_access']),
  });
  const { url } = await auth.agent.follow(res);
  const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  const profile = await app.request('GET', '/api/v1/data/profile', { token: data.access_token });
  t.is(profile.status, 200, profile.text);
  t.is(profile.body.subject, await subjectAt(app, config, person.user_id));
  t.is(profile.body.fields.email, person.person.email);
  t.is(profile.body.fields.home_address, undefined, 'address was declined');
});
