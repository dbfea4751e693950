// An access token's payload is verified on its first request only (src/oidc/resource.ts): every later request still
// finds out whether the token itself is stored, so a token revoked after it was used is refused on the very next one.
import test from 'ava';
import * as client from 'openid-client';
import { storedId } from '../../src/oidc/adapter.ts';
import { useTestApp } from '../helpers/app.ts';
import { authorize, dataResource, registerClient } from '../helpers/oidc.ts';
import { registerPerson } from '../services/fixtures.ts';

const app = useTestApp();

async function dataToken(scope = 'openid email offline_access') {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const flow = await authorize(app, config, person.person, scope, { extra: { resource: dataResource(app) } });
  const tokens = await client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  return { config, tokens };
}

const read = (token: string) => app.request('GET', '/api/v1/data/profile', { token });

test('an access token revoked (RFC 7009) after it was used is refused on the next request', async (t) => {
  const { config, tokens } = await dataToken();
  t.is((await read(tokens.access_token)).status, 200);
  t.is((await read(tokens.access_token)).status, 200);
  await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
  const refused = await read(tokens.access_token);
  t.is(refused.status, 401);
  t.is(refused.body.status, 'the access token is unknown or has been revoked');
  t.is((await read(tokens.access_token)).status, 401, 'and stays refused');
});

test('a used access token whose row is gone is refused, and so is one whose row has expired', async (t) => {
  const { tokens } = await dataToken();
  const other = await dataToken();
  t.is((await read(tokens.access_token)).status, 200);
  t.is((await read(other.tokens.access_token)).status, 200);
  const db = app.service.deps.db;
  t.is(
    await db('oidc_payloads')
      .where({ kind: 'AccessToken', id: storedId('AccessToken', tokens.access_token) })
      .delete(),
    1,
  );
  t.is((await read(tokens.access_token)).status, 401);
  await db('oidc_payloads')
    .where({ kind: 'AccessToken', id: storedId('AccessToken', other.tokens.access_token) })
    .update({ expires_at: new Date(Date.now() - 1000) });
  t.is((await read(other.tokens.access_token)).status, 401);
});

test('a grant rewritten in place (the same id, fewer scopes) narrows the very next read', async (t) => {
  const { tokens } = await dataToken('openid email address offline_access');
  const first = await read(tokens.access_token);
  t.is(first.status, 200);
  t.truthy(first.body.fields.home_address);
  const db = app.service.deps.db;
  const token = (await db('oidc_payloads')
    .where({ kind: 'AccessToken', id: storedId('AccessToken', tokens.access_token) })
    .first()) as {
    grant_id: string;
  };
  const grant = (await db('oidc_payloads').where({ kind: 'Grant', id: token.grant_id }).first()) as {
    payload: { resources: Record<string, string> };
  };
  const resources = Object.fromEntries(
    Object.entries(grant.payload.resources).map(([resource, scope]) => [
      resource,
      scope
        .split(' ')
        .filter((s) => s !== 'address')
        .join(' '),
    ]),
  );
  await db('oidc_payloads')
    .where({ kind: 'Grant', id: token.grant_id })
    .update({ payload: JSON.stringify({ ...grant.payload, resources }) });
  const second = await read(tokens.access_token);
  t.is(second.status, 200);
  t.is(second.body.fields.home_address, undefined);
  t.is(second.body.fields.email, first.body.fields.email);
});
