// Signing in on the provider's login page: wrong passwords, forged forms and throttling, each answered with a page.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertPage } from '../helpers/assert.ts';
import { csrfOf, loginForm, providerRowsOf, registerClient, startAuthorization } from '../helpers/oidc.ts';
import { auditOf, registerPerson } from './fixtures.ts';

const app = useTestApp();

test('a wrong password gets the login page again with the message (401), and nothing is granted', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const res = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, {
    form: loginForm(csrfOf(auth.page.text), person.person.handle, 'not the password at all'),
  });
  assertPage(t, res, 401, /The e-mail, handle or password is not right/);
  t.regex(res.text, new RegExp(`<input id="login"[^>]*value="${person.person.handle}"`), 'what was typed as login is kept');
  t.regex(res.text, /<input id="password" name="password" type="password"[^>]*required>/, 'the password is never echoed');
  t.deepEqual(await providerRowsOf(app, person.user_id), {}, 'no session, grant or token for the person');
  const failures = await auditOf(app, 'session.login_failed', `user:${person.user_id}`);
  t.is(failures.length, 1);
  t.like(failures[0].data, { reason: 'wrong_password' });
  // The same interaction still accepts the right password.
  const ok = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, {
    form: loginForm(csrfOf(res.text), person.person.handle, person.person.password),
  });
  t.is(ok.status, 303);
});

test('a forged, missing or foreign CSRF token gets the 400 page and signs nobody in', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const other = await startAuthorization(app, config, 'openid email');
  const { handle, password } = person.person;
  const forged = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, { form: loginForm('forged-token', handle, password) });
  assertPage(t, forged, 400, /did not come from Ringfence/);
  const missing = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, { form: new URLSearchParams({ login: handle, password }) });
  assertPage(t, missing, 400, /did not come from Ringfence/);
  const foreign = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, { form: loginForm(csrfOf(other.page.text), handle, password) });
  assertPage(t, foreign, 400, /did not come from Ringfence/);
  t.deepEqual(await providerRowsOf(app, person.user_id), {});
  t.is((await auditOf(app, 'session.login_failed', `user:${person.user_id}`)).length, 0, 'a refused form never reaches the password check');
});

test('a form without login or password gets the login page with a message (400)', async (t) => {
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const res = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, {
    form: new URLSearchParams({ csrf: csrfOf(auth.page.text), login: 'someone' }),
  });
  assertPage(t, res, 400, /Enter your e-mail or handle and your password/);
  t.regex(res.text, /<form method="post" action="\/interaction\/[^/]+\/login"/, 'the login form is shown again');
});

test('signing in on an interaction that is unknown or already past login gets the 400 page', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  const { handle, password } = person.person;
  const unknown = await app.request('POST', '/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/login', {
    raw: { body: loginForm('x', handle, password).toString(), type: 'application/x-www-form-urlencoded' },
  });
  assertPage(t, unknown, 400);
  const csrf = csrfOf(auth.page.text);
  const cookie = auth.agent.cookieHeader(`/interaction/${auth.uid}`);
  const signedIn = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, { form: loginForm(csrf, handle, password) });
  t.is(signedIn.status, 303);
  const { url } = await auth.agent.follow(signedIn);
  t.not(url.pathname, `/interaction/${auth.uid}`, 'the provider moved on to the consent step');
  // The browser posts the old login form again (back button): that interaction is over.
  const twice = await app.request('POST', `/interaction/${auth.uid}/login`, {
    headers: { cookie },
    raw: { body: loginForm(csrf, handle, password).toString(), type: 'application/x-www-form-urlencoded' },
  });
  assertPage(t, twice, 400);
});

test('after five failures the page answers 429 with Retry-After, even to the right password', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email');
  let page = auth.page;
  for (let i = 0; i < 5; i++) {
    page = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, {
      form: loginForm(csrfOf(page.text), person.person.handle, `wrong ${i}`),
    });
    assertPage(t, page, 401, /not right/);
  }
  const locked = await auth.agent.request('POST', `/interaction/${auth.uid}/login`, {
    form: loginForm(csrfOf(page.text), person.person.handle, person.person.password),
  });
  assertPage(t, locked, 429, /too many failed logins: wait \d+ minute\(s\)/);
  t.true(Number(locked.headers.get('retry-after')) > 0);
  t.deepEqual(await providerRowsOf(app, person.user_id), {}, 'nothing granted while throttled');
  // One throttle for both ways in: the login API refuses this account too.
  const api = await app.request('POST', '/api/v1/users/login', { json: { handle: person.person.handle, password: person.person.password } });
  t.is(api.status, 429);
});
