// What the provider's table holds after a real flow: every token, code, session and interaction under the hash of
// its value, and no value a browser or a service holds anywhere in it — nor in the audit log.
import test from 'ava';
import * as client from 'openid-client';
import { hashToken } from '../../src/crypto/tokens.ts';
import { useTestApp } from '../helpers/app.ts';
import { consentForm, csrfOf, dataResource, registerClient, signIn, startAuthorization, type UserAgent, subjectAt } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();

/** The values of the agent's cookies on these paths (not their signatures), by name. */
function cookieValues(agent: UserAgent, paths: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const path of paths) {
    for (const pair of agent.cookieHeader(path).split('; ').filter(Boolean)) {
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (!name.endsWith('.sig')) out.set(name, pair.slice(eq + 1));
    }
  }
  return out;
}

test('after a real flow no stored row names an issued token, code, session or interaction by its value', async (t) => {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government');
  const auth = await startAuthorization(app, config, 'openid email offline_access');
  const consent = await signIn(auth, person.person.handle, person.person.password);
  const answered = await auth.agent.request('POST', `/interaction/${consent.uid}/consent`, {
    form: consentForm(csrfOf(consent.page.text), ['openid', 'email', 'offline_access']),
  });
  const { url } = await auth.agent.follow(answered);
  const code = url.searchParams.get('code')!;
  t.truthy(code);
  const cookies = cookieValues(auth.agent, ['/oidc/auth', `/oidc/auth/${consent.uid}`, `/interaction/${consent.uid}`, '/']);
  const session = cookies.get('_session');
  t.truthy(session, 'the browser holds a provider session');

  // Every kind of lookup the provider and the data API make, so each is shown to work on hashed rows.
  const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: auth.verifier, expectedState: auth.state });
  t.is((await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id))).email, person.person.email);
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  t.not(data.refresh_token, tokens.refresh_token, 'the refresh token rotated');
  const profile = await app.request('GET', '/api/v1/data/profile', { token: data.access_token });
  t.is(profile.status, 200, profile.text);
  t.is((await client.tokenIntrospection(config, data.access_token)).active, true);
  const own = await client.clientCredentialsGrant(config, { resource: dataResource(app) });
  t.is((await client.tokenIntrospection(config, own.access_token)).active, true);

  const issued: [string, string, string | undefined][] = [
    ['authorization code', 'AuthorizationCode', code],
    ['access token (userinfo)', 'AccessToken', tokens.access_token],
    ['refresh token (spent)', 'RefreshToken', tokens.refresh_token],
    ['access token (data API)', 'AccessToken', data.access_token],
    ['refresh token (rotated)', 'RefreshToken', data.refresh_token],
    ['client-credentials token', 'ClientCredentials', own.access_token],
    ['session cookie', 'Session', session],
  ];
  const secrets: [string, string][] = [
    ...issued.map(([what, , value]) => [what, value!] as [string, string]),
    ['login interaction id', auth.uid],
    ['consent interaction id', consent.uid],
  ];
  for (const [what, value] of secrets) t.true(typeof value === 'string' && value.length >= 20, `${what} was issued`);

  const db = app.service.deps.db;
  // They are stored: each under the hash of its value (a spent code and refresh token are kept, consumed).
  for (const [what, kind, value] of issued) {
    t.truthy(
      await db('oidc_payloads')
        .where({ kind, id: hashToken(value!) })
        .first('kind'),
      `${what} is stored under its hash`,
    );
  }
  const rows = (await db('oidc_payloads').select(
    db.raw('kind, id, payload::text as payload, grant_id, uid, user_code, account_id, client_id'),
  )) as Record<string, string | null>[];
  t.true(rows.some((r) => r.kind === 'Grant' && r.client_id === service.client_id));
  const audit = (await db('audit_events').select(db.raw('data::text as data'))) as { data: string }[];
  for (const [what, value] of secrets) {
    const inRow = rows.find((r) => Object.values(r).some((column) => column?.includes(value)));
    t.is(inRow, undefined, `${what} is in a ${inRow?.kind} row`);
    t.false(
      audit.some((e) => e.data.includes(value)),
      `${what} is in the audit log`,
    );
  }
});
