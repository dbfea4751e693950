// Sender-constrained tokens at the data API (RFC 9449): a token the provider bound to a DPoP key reads data only with
// a fresh proof by that key, for this request, used once; as Bearer it is refused. Unbound tokens keep Bearer.
import { createHash, randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { startTestApp, type TestResponse, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { authorize, dataResource, registerClient, subjectAt } from '../helpers/oidc.ts';
import { registerPerson, specCheckedJson } from '../services/fixtures.ts';

const app = useTestApp();

type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

/** A service with a DPoP key, granted by a person through the real pages: its DPoP-bound data API token. */
async function boundToken() {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const DPoP = client.getDPoPHandle(config, keyPair);
  const flow = await authorize(app, config, person.person, 'openid email address', { extra: { resource: dataResource(app) } });
  const tokens = await client.authorizationCodeGrant(
    config,
    flow.redirected,
    { pkceCodeVerifier: flow.verifier, expectedState: flow.state },
    undefined,
    { DPoP },
  );
  return { person, config, keyPair, DPoP, tokens, token: tokens.access_token };
}

const PROFILE_URL = () => `${app.config.baseUrl}/api/v1/data/profile`;
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof (RFC 9449 §4.2) signed with jose, each claim overridable to build a wrong one. */
async function proof(keys: KeyPair, token: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm: 'GET', htu: PROFILE_URL(), iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: ath(token), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

function readWith(token: string, dpop?: string, target = app): Promise<TestResponse> {
  return target.request('GET', '/api/v1/data/profile', { headers: { authorization: `DPoP ${token}`, ...(dpop === undefined ? {} : { dpop }) } });
}

function assertProofRefused(t: ExecutionContext, res: TestResponse, message: RegExp) {
  assertError(t, res, 401, 'invalid_dpop_proof', message);
  t.regex(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 Ed25519 EdDSA"$/);
}

test('the provider binds the token to the DPoP key, and openid-client reads the data API with it and a proof', async (t) => {
  const { person, config, keyPair, DPoP, tokens, token } = await boundToken();
  t.is(tokens.token_type, 'dpop');
  const stored = await app.service.deps.db('oidc_payloads').where({ kind: 'AccessToken', account_id: person.user_id }).select('payload');
  const payload = typeof stored[0].payload === 'string' ? JSON.parse(stored[0].payload) : stored[0].payload;
  t.is(payload.jkt, await DPoP.calculateThumbprint(), 'bound to the key openid-client holds');

  const res = await client.fetchProtectedResource(config, token, new URL(PROFILE_URL()), 'GET', null, undefined, { DPoP });
  t.is(res.status, 200);
  const body = await specCheckedJson(t, app, 'GET', '/api/v1/data/profile', res);
  t.is(body.subject, await subjectAt(app, config, person.user_id));
  t.like(body.fields.home_address, { locality: 'Burnaby' });

  // And with a proof made by hand, through the spec-checking client.
  const again = await readWith(token, await proof(keyPair, token));
  t.is(again.status, 200, again.text);
});

test('a DPoP-bound token sent as Bearer is refused: 401 invalid_token with the DPoP challenge', async (t) => {
  const { token } = await boundToken();
  const res = await app.request('GET', '/api/v1/data/profile', { token });
  assertError(t, res, 401, 'invalid_token', /bound to a DPoP key/);
  t.regex(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token", error_description="[^"]+", algs="ES256 Ed25519 EdDSA"$/);
  const withProof = await app.request('GET', '/api/v1/data/profile', { token, headers: { dpop: await proof((await boundToken()).keyPair, token) } });
  assertError(t, withProof, 401, 'invalid_token', /bound to a DPoP key/);
});

test('a proof for another method, URL or token, or a stale one, is refused with invalid_dpop_proof', async (t) => {
  const { token, keyPair } = await boundToken();
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { htm: 'POST' })), /htm must be this request's method, GET/);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { htu: `${app.config.baseUrl}/api/v1/data/other` })), /htu must be/);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { htu: 'https://elsewhere.example/api/v1/data/profile' })), /htu must be/);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { ath: ath(`${token}x`) })), /ath must be/);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { ath: undefined })), /ath must be/);
  const now = Math.floor(Date.now() / 1000);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { iat: now - 600 })), /iat is more than 120 seconds from now/);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { iat: now + 600 })), /iat is more than 120 seconds from now/);
  assertProofRefused(t, await readWith(token, await proof(keyPair, token, { jti: undefined })), /needs a jti/);
  // The query and fragment are not part of htu (RFC 9449 §4.3): a proof naming them is still for this URL.
  t.is((await readWith(token, await proof(keyPair, token, { htu: `${PROFILE_URL()}?x=1#y` }))).status, 200);
});

test('a proof signed by another key, not a JWT, or missing is refused', async (t) => {
  const { token } = await boundToken();
  const other = await generateKeyPair('ES256', { extractable: true });
  assertProofRefused(t, await readWith(token, await proof(other, token)), /signed by a key other than the one this access token is bound to/);
  assertProofRefused(t, await readWith(token, 'not-a-jwt'), /must be a JWT of typ dpop\+jwt/);
  assertProofRefused(t, await readWith(token), /send one DPoP proof/);
  // A proof signed with a symmetric key is no proof of possession.
  const hs = await new SignJWT({ htm: 'GET', htu: PROFILE_URL(), iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: ath(token) })
    .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as never })
    .sign(new TextEncoder().encode('secret-secret-secret-secret-1234'));
  assertProofRefused(t, await readWith(token, hs), /must be a JWT of typ dpop\+jwt/);
});

test('a proof is good for one request: replayed, here or at another instance on the same database, it is refused', async (t) => {
  const { token, keyPair } = await boundToken();
  const once = await proof(keyPair, token);
  t.is((await readWith(token, once)).status, 200);
  assertProofRefused(t, await readWith(token, once), /already used/);
  // Another instance behind the same public URL: the replay cache is in PostgreSQL, so it knows the proof too.
  const second = await startTestApp({
    name: 'data-getDataProfile-dpop-2',
    env: { BASE_URL: app.config.baseUrl },
    databaseUrl: app.databaseUrl,
    kek: app.kek,
  });
  try {
    const fresh = await proof(keyPair, token);
    t.is((await readWith(token, fresh, second)).status, 200);
    assertProofRefused(t, await readWith(token, fresh, app), /already used/);
  } finally {
    await second.close();
  }
});

test('unbound Bearer tokens keep working, and are refused with the DPoP scheme', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const flow = await authorize(app, config, person.person, 'openid email', { extra: { resource: dataResource(app) } });
  const tokens = await client.authorizationCodeGrant(config, flow.redirected, { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  t.is(tokens.token_type, 'bearer');
  t.is((await app.request('GET', '/api/v1/data/profile', { token: tokens.access_token })).status, 200);
  const keys = await generateKeyPair('ES256', { extractable: true });
  const res = await readWith(tokens.access_token, await proof(keys, tokens.access_token));
  assertError(t, res, 401, 'invalid_token', /not bound to a DPoP key/);
  t.regex(res.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_token"/);
});

test('the DPoP replay cache keeps only live proofs: an expired row is swept', async (t) => {
  const { sweepSeenProofs } = await import('../../src/oidc/dpop.ts');
  const db = app.service.deps.db;
  await db('dpop_proofs').insert({ id: `expired-${randomUUID()}`, expires_at: new Date(Date.now() - 1000) });
  t.true((await sweepSeenProofs(db)) >= 1);
  t.is(Number((await db('dpop_proofs').where('expires_at', '<=', new Date()).count({ n: '*' }))[0].n), 0);
});

test('the data API advertises DPoP in its protected resource metadata (RFC 9728), as the provider does', async (t) => {
  const res = await app.request('GET', '/.well-known/oauth-protected-resource/api/v1/data');
  t.is(res.status, 200, res.text);
  t.is(res.body.resource, dataResource(app));
  t.deepEqual(res.body.authorization_servers, [`${app.config.baseUrl}/oidc`]);
  t.deepEqual(res.body.bearer_methods_supported, ['header']);
  t.false(res.body.dpop_bound_access_tokens_required);
  t.false(res.body.scopes_supported.includes('openid'));
  t.true(res.body.scopes_supported.includes('email'));
  const discovery = await (await fetch(`${app.url}/oidc/.well-known/openid-configuration`)).json();
  t.deepEqual(
    res.body.dpop_signing_alg_values_supported,
    discovery.dpop_signing_alg_values_supported,
    'a proof the provider takes, the data API takes',
  );
});
