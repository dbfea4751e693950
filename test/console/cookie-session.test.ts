/**
 * The console's browser session: login and registration with `session: cookie` put the tokens in HttpOnly,
 * SameSite=Strict cookies (never in the body), and the sessionToken scheme takes the session cookie only with its
 * CSRF proof and from this site; logout clears them. The session slides: a renewal rotates both tokens within the
 * 10-hour limit and keeps the CSRF value, a spent refresh cookie presented again ends the login, and a session left
 * unused past its token is over.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import { cookieLogin, cookieValue, registerPerson } from './helpers.ts';

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

const REFRESH = '/api/v1/auth/refresh';

/** The console's renewal: the refresh cookie and the login's CSRF value, from this site. */
function renew(refreshCookie: string, csrf: string, headers: Record<string, string> = {}) {
  return app.request('POST', REFRESH, {
    headers: { cookie: refreshCookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-origin', ...headers },
    json: { session: 'cookie' },
  });
}

async function sessionRow(token: string) {
  return app.service.deps
    .db('sessions')
    .where({ access_hash: hashToken(token) })
    .first();
}

test('a cookie login also sets a refresh cookie, sent only to the refresh endpoint, for the 10-hour limit', async (t) => {
  const person = await registerPerson(app);
  const { res, setRefreshCookie } = await cookieLogin(app, person);
  t.regex(setRefreshCookie, /^rf_refresh=[A-Za-z0-9_-]+; Path=\/api\/v1\/auth\/refresh; Max-Age=36000; HttpOnly; SameSite=Strict$/);
  t.false(res.text.includes(cookieValue(setRefreshCookie.split(';')[0])), 'the refresh token is not in the body');
});

test('a renewal rotates both tokens, keeps the CSRF value, and ends the old token 30 seconds later', async (t) => {
  const person = await registerPerson(app);
  const { cookie, refreshCookie, csrf } = await cookieLogin(app, person);
  const before = await sessionRow(cookieValue(cookie));

  const res = await renew(refreshCookie, csrf);
  t.is(res.status, 200, res.text);
  t.like(res.body, { status: 'success', session: 'cookie', user_id: person.userId, csrf_token: csrf, expires_in: 900 });
  const [setCookie, setRefresh] = res.headers.getSetCookie();
  t.regex(setCookie, /^rf_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=900; HttpOnly; SameSite=Strict$/);
  t.regex(setRefresh, /^rf_refresh=[A-Za-z0-9_-]+; Path=\/api\/v1\/auth\/refresh; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
  const next = setCookie.split(';')[0];
  const nextRefresh = setRefresh.split(';')[0];
  t.not(next, cookie, 'a new access token');
  t.not(nextRefresh, refreshCookie, 'a new refresh token');
  t.false(res.text.includes(cookieValue(next)) || res.text.includes(cookieValue(nextRefresh)), 'no token in the body');

  // The new token works with the CSRF value the page already has; it is the same login.
  const me = await app.request('GET', '/api/v1/auth/me', { headers: { cookie: next, 'x-csrf-token': csrf } });
  t.is(me.status, 200);
  t.is(me.body.session.session_id, before.family_id);
  const renewed = await sessionRow(cookieValue(next));
  t.is(renewed.family_id, before.family_id);
  t.true(new Date(renewed.access_expires_at).getTime() > new Date(before.access_expires_at).getTime(), 'the session slid on');

  // The old token still answers a request already on its way, for 30 seconds at most.
  t.is((await app.request('GET', '/api/v1/auth/me', { headers: { cookie, 'x-csrf-token': csrf } })).status, 200);
  const old = await sessionRow(cookieValue(cookie));
  t.true(new Date(old.access_expires_at).getTime() - Date.now() <= 30_000, 'the old token ends within the grace');
  await app.service.deps
    .db('sessions')
    .where({ id: old.id })
    .update({ access_expires_at: new Date(Date.now() - 1000) });
  assertError(t, await app.request('GET', '/api/v1/auth/me', { headers: { cookie, 'x-csrf-token': csrf } }), 401, 'token_expired');

  // A page rendered with the new cookie carries the same CSRF value.
  const page = await app.request('GET', '/account/sessions', { headers: { cookie: next } });
  t.true(page.text.includes(`<meta name="rf-csrf" content="${csrf}">`));
  // And the renewal goes on, from the new refresh cookie.
  t.is((await renew(nextRefresh, csrf)).status, 200);
});

test('a refresh cookie presented again after its renewal ends the whole login', async (t) => {
  const person = await registerPerson(app);
  const { refreshCookie, csrf } = await cookieLogin(app, person);
  const first = await renew(refreshCookie, csrf);
  t.is(first.status, 200);
  const next = first.headers.getSetCookie()[0].split(';')[0];
  assertError(t, await renew(refreshCookie, csrf), 401, 'refresh_token_reused');
  assertError(t, await app.request('GET', '/api/v1/auth/me', { headers: { cookie: next, 'x-csrf-token': csrf } }), 401, 'token_revoked');
});

test('a renewal needs the CSRF value of its login, from this site, and the cookie rather than a bearer token', async (t) => {
  const person = await registerPerson(app);
  const other = await registerPerson(app, 'grace');
  const { refreshCookie, csrf } = await cookieLogin(app, person);
  const otherCsrf = (await cookieLogin(app, other)).csrf;
  assertError(t, await app.request('POST', REFRESH, { headers: { cookie: refreshCookie }, json: { session: 'cookie' } }), 403, 'csrf_refused');
  assertError(t, await renew(refreshCookie, otherCsrf), 403, 'csrf_refused');
  assertError(t, await renew(refreshCookie, csrf, { 'sec-fetch-site': 'cross-site' }), 403, 'csrf_refused');
  assertError(t, await app.request('POST', REFRESH, { json: { session: 'cookie' } }), 401, 'token_missing');
  assertError(t, await renew(refreshCookie, csrf, { authorization: `Bearer ${person.token}` }), 401, 'invalid_grant');
  assertError(t, await app.request('POST', REFRESH, { json: { session: 'cookie', refresh_token: 'x' } }), 400, 'validation_failed');
  // None of these spent the cookie.
  t.is((await renew(refreshCookie, csrf)).status, 200);
});

test('a cookie session left unused past its token is over: no renewal', async (t) => {
  const person = await registerPerson(app);
  const { cookie, refreshCookie, csrf } = await cookieLogin(app, person);
  const row = await sessionRow(cookieValue(cookie));
  await app.service.deps
    .db('sessions')
    .where({ id: row.id })
    .update({ access_expires_at: new Date(Date.now() - 1000) });
  assertError(t, await renew(refreshCookie, csrf), 401, 'token_expired', /unused/);
  const page = await app.request('GET', '/account/sessions', { headers: { cookie } });
  t.false(page.text.includes('rf-csrf'), 'a page for an expired session has no CSRF value: the console asks to sign in');
});

test('renewals never carry a cookie session past 10 hours after the sign-in', async (t) => {
  const person = await registerPerson(app);
  const { cookie, refreshCookie, csrf } = await cookieLogin(app, person);
  const row = await sessionRow(cookieValue(cookie));
  // Signed in 9 hours 55 minutes ago: the renewal gives the 5 minutes left, not 15.
  const authAt = new Date(Date.now() - (10 * 3600 - 300) * 1000);
  await app.service.deps.db('sessions').where({ family_id: row.family_id }).update({ auth_at: authAt });
  const last = await renew(refreshCookie, csrf);
  t.is(last.status, 200, last.text);
  t.true(last.body.expires_in <= 300 && last.body.expires_in > 290, `expires_in ${last.body.expires_in}`);
  const [setCookie, setRefresh] = last.headers.getSetCookie();
  t.regex(setCookie, /Max-Age=(29\d|300);/);
  t.regex(setRefresh, /Max-Age=(29\d|300);/);
  const newest = await sessionRow(cookieValue(setCookie.split(';')[0]));
  t.true(new Date(newest.access_expires_at).getTime() <= authAt.getTime() + 10 * 3600 * 1000, 'the last token ends at the limit');

  // At the limit: refused, and the person signs in again.
  await app.service.deps
    .db('sessions')
    .where({ family_id: row.family_id })
    .update({ auth_at: new Date(Date.now() - 10 * 3600 * 1000) });
  assertError(t, await renew(setRefresh.split(';')[0], csrf), 401, 'invalid_grant', /limit of 10 hours/);
});

test("a cookie session's refresh token sent as a body refresh_token is refused and spends nothing: it renews only from its cookie", async (t) => {
  const person = await registerPerson(app);
  const { refreshCookie, csrf } = await cookieLogin(app, person);
  // A value lifted from the cookie jar cannot become a token pair that outlives the 10-hour limit.
  const lifted = await app.request('POST', '/api/v1/auth/refresh', { json: { refresh_token: cookieValue(refreshCookie) } });
  assertError(t, lifted, 401, 'invalid_grant', /renews only from its cookie/);
  // Still unspent: the console renews as before, with no reuse detected.
  const renewed = await renew(refreshCookie, csrf);
  t.is(renewed.status, 200, renewed.text);
  // And after a renewal the family is still a cookie session: the rotated token is refused the same way.
  const nextRefresh = renewed.headers.getSetCookie()[1].split(';')[0];
  assertError(t, await app.request('POST', '/api/v1/auth/refresh', { json: { refresh_token: cookieValue(nextRefresh) } }), 401, 'invalid_grant');
});
