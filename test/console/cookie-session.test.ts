/**
 * The console's browser session: login and registration with `session: cookie` put the token in an HttpOnly,
 * SameSite=Strict cookie (never in the body), and the sessionToken scheme takes that cookie only with its CSRF
 * proof and from this site; logout clears it.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { cookieLogin, registerPerson } from './helpers.ts';

const app = useTestApp();

test('a cookie login sets an HttpOnly, SameSite=Strict cookie and answers no token', async (t) => {
  const person = await registerPerson(app);
  const { res, setCookie, csrf } = await cookieLogin(app, person);
  t.is(res.body.session, 'cookie');
  t.is(res.body.token, undefined);
  t.is(res.body.refresh_token, undefined);
  t.regex(csrf, /^[A-Za-z0-9_-]{43}$/);
  // Plain HTTP in tests: the plain name, no Secure (over TLS it is __Host-rf_session; Secure).
  t.regex(setCookie, /^rf_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=900; HttpOnly; SameSite=Strict$/);
  t.false(res.text.includes(setCookie.split(';')[0].split('=')[1]), 'the token is not in the body');
});

test('registration with session: cookie signs in with the cookie too', async (t) => {
  const tag = randomBytes(4).toString('hex');
  const res = await app.request('POST', '/api/v1/users/register', {
    json: {
      name: 'Cookie Person',
      email: `cookie.${tag}@example.org`,
      handle: `cookie_${tag}`,
      password: `a cookie passphrase ${tag}`,
      session: 'cookie',
    },
  });
  t.is(res.status, 201);
  t.is(res.body.token, undefined);
  t.truthy(res.body.profile_id);
  const cookie = res.headers.getSetCookie()[0].split(';')[0];
  const me = await app.request('GET', '/api/v1/auth/me', { headers: { cookie, 'x-csrf-token': res.body.csrf_token } });
  t.is(me.status, 200);
  t.is(me.body.handle, `cookie_${tag}`);
});

test('the cookie works only with the CSRF header of its session, and never from another site', async (t) => {
  const person = await registerPerson(app);
  const other = await registerPerson(app, 'grace');
  const { cookie, csrf } = await cookieLogin(app, person);
  const otherCsrf = (await cookieLogin(app, other)).csrf;

  const ok = await app.request('GET', '/api/v1/auth/me', { headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-origin' } });
  t.is(ok.status, 200);
  t.is(ok.body.user_id, person.userId);

  assertError(t, await app.request('GET', '/api/v1/auth/me', { headers: { cookie } }), 403, 'csrf_refused');
  assertError(t, await app.request('GET', '/api/v1/auth/me', { headers: { cookie, 'x-csrf-token': otherCsrf } }), 403, 'csrf_refused');
  const crossSite = await app.request('PUT', '/api/v1/profile/update-info', {
    headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' },
    json: { updated_fields: { bio: 'written from another site' } },
  });
  assertError(t, crossSite, 403, 'csrf_refused');
  const foreignOrigin = await app.request('PUT', '/api/v1/profile/update-info', {
    headers: { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' },
    json: { updated_fields: { bio: 'written from another origin' } },
  });
  assertError(t, foreignOrigin, 403, 'csrf_refused');
  const profile = await app.request('GET', '/api/v1/profile', { token: person.token });
  t.is(profile.body.fields.bio.value, null, 'nothing was written by the refused requests');

  // The Authorization header, when present, is what counts.
  const bearer = await app.request('GET', '/api/v1/auth/me', { token: other.token, headers: { cookie } });
  t.is(bearer.body.user_id, other.userId);
});

test('logout with the cookie ends the session and clears the cookie', async (t) => {
  const person = await registerPerson(app);
  const { cookie, csrf } = await cookieLogin(app, person);
  const out = await app.request('POST', '/api/v1/auth/logout', { headers: { cookie, 'x-csrf-token': csrf }, json: {} });
  t.is(out.status, 200);
  t.is(out.body.sessions_ended, 1);
  t.regex(out.headers.getSetCookie()[0], /^rf_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
  assertError(t, await app.request('GET', '/api/v1/auth/me', { headers: { cookie, 'x-csrf-token': csrf } }), 401, 'token_revoked');
});

test('logout-all with the cookie clears it too', async (t) => {
  const person = await registerPerson(app);
  const { cookie, csrf } = await cookieLogin(app, person);
  const out = await app.request('POST', '/api/v1/auth/logout-all', { headers: { cookie, 'x-csrf-token': csrf }, json: {} });
  t.is(out.status, 200);
  t.true(out.body.sessions_ended >= 2, 'the registration session and the cookie session');
  t.regex(out.headers.getSetCookie()[0], /^rf_session=; .*Max-Age=0/);
  assertError(t, await app.request('GET', '/api/v1/auth/me', { token: person.token }), 401, 'token_revoked');
});

test('a malformed cookie is no credential at all', async (t) => {
  assertError(t, await app.request('GET', '/api/v1/auth/me', { headers: { cookie: 'rf_session=not a token;' } }), 401, 'token_missing');
});
