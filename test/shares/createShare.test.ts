/**
 * Selective disclosure (`POST /api/v1/profile/share-create`, seed API 3): a share is an SD-JWT VC holding only the
 * chosen fact, verifiable by a third party with nothing but the published keys and status list, and revoked at
 * once by the person; the policy engine decides what a service's role may receive, as for the data API.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, ES256 } from '@sd-jwt/crypto-nodejs';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { registerClient } from '../helpers/oidc.ts';
import { registerPerson } from '../services/fixtures.ts';
import { listAuditEvents } from '../../src/audit/audit.ts';
import { loadIssuerKeys } from '../../src/crypto/issuer-keys.ts';
import { issueShareCredential } from '../../src/features/shares/sd-jwt.ts';
import { decodeShare, markDateOfBirthVerified, publishedJwks } from './fixtures.ts';
import { verifyShare } from './verify-offline.ts';

const app = useTestApp();

async function statusListOf(token: string): Promise<string> {
  const res = await app.request('GET', new URL(decodeShare(token).payload.status.status_list.uri).pathname);
  if (res.status !== 200) throw new Error(`status list: ${res.status} ${res.text}`);
  return res.text;
}

test('share-create for age_over_18 gives a token that verifies offline with only the JWKS and status list, holds nothing else, and reads revoked right after the share is revoked', async (t) => {
  const person = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial', { name: 'Corner Shop' });
  const clientId = shop.service.client_id;

  const res = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: clientId, info_field: 'age_over_18' },
  });
  t.is(res.status, 201, res.text);
  const token: string = res.body.verification_token;

  // Only what was chosen: the predicate, and no name, handle, e-mail, birth date or address, in any part of it.
  const { header, payload, disclosures } = decodeShare(token);
  t.is(header.typ, 'dc+sd-jwt');
  t.is(header.alg, 'ES256');
  t.deepEqual(Object.keys(payload).sort(), ['_sd', '_sd_alg', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'status', 'vct']);
  t.is(payload.iss, app.config.baseUrl);
  t.is(payload.aud, clientId);
  t.is(payload.client_id, clientId);
  t.is(payload.exp - payload.iat, 600, 'ten minutes by default');
  t.is(payload.cnf, undefined);
  t.deepEqual(
    disclosures.map((d) => d.slice(1)),
    [['age_over_18', true]],
  );
  t.true((disclosures[0][0] as string).length >= 22, 'a 128-bit salt (22 base64url characters)');
  const text = Buffer.from(token.replace(/[~.]/g, '')).toString() + JSON.stringify([header, payload, disclosures]);
  for (const secret of ['1990', '12-10', person.person.name, 'Ada', person.person.handle, person.person.email, 'Kingsway', 'birth', person.user_id]) {
    t.false(text.includes(secret), `the token holds no ${secret}`);
  }

  // A third party: the issuer metadata's JWKS and the status list the token names, nothing else.
  const jwks = await publishedJwks(app);
  const ownKeys = (await fetch(`${app.url}/oidc/jwks`).then((r) => r.json())) as { keys: { kid: string }[] };
  t.false(
    ownKeys.keys.some((k) => jwks.keys.some((j) => j.kid === k.kid)),
    "the issuer key is not the provider's",
  );
  const before = await verifyShare(token, jwks, await statusListOf(token), clientId);
  t.deepEqual(before, { claims: { age_over_18: true }, revoked: false });
  await t.throwsAsync(() => verifyShare(token, jwks, '', 'another-service'), undefined, "another service's audience fails");

  // The same with the reference implementation, given the fetched list instead of a network.
  let list = await statusListOf(token);
  const verifier = new SDJwtVcInstance({
    hasher: digest,
    verifier: async (data, sig) => {
      const kid = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString()).kid;
      return (await ES256.getVerifier(jwks.keys.find((k) => k.kid === kid)!))(data, sig);
    },
    statusListFetcher: async () => list,
  });
  const verified = await verifier.verify(token);
  t.is(verified.payload.age_over_18, true);

  const online = await app.request('POST', '/api/v1/verify', { json: { verification_token: token } });
  t.like(online.body, { valid: true, revoked: false, claims: { age_over_18: true }, service_id: clientId });

  // The release is on record under the share, before the token was answered.
  const released = (await listAuditEvents(app.service.deps.db, { action: 'data.released' })).filter((e) => e.data?.share_id === res.body.share_id);
  t.is(released.length, 1);
  t.deepEqual(released[0].data?.fields, ['age_over_18']);

  const revoked = await app.request('DELETE', `/api/v1/profile/shares/${res.body.share_id}`, { token: person.token });
  t.is(revoked.status, 200, revoked.text);
  t.is(revoked.body.share.state, 'revoked');

  list = await statusListOf(token);
  t.deepEqual(await verifyShare(token, jwks, list, clientId), { claims: { age_over_18: true }, revoked: true }, 'offline: revoked');
  await t.throwsAsync(() => verifier.verify(token), { message: /Status is not valid/ });
  const after = await app.request('POST', '/api/v1/verify', { json: { verification_token: token } });
  t.like(after.body, { valid: false, revoked: true }, 'online: revoked');

  const shares = await app.request('GET', '/api/v1/profile/shares', { token: person.token });
  t.is(shares.body.shares[0].share_id, res.body.share_id);
  t.is(shares.body.shares[0].state, 'revoked');
});

test('age facts need a date of birth verified by a confirmed credential: a self-asserted one gets 409', async (t) => {
  const person = await registerPerson(app);
  const shop = await registerClient(app, 'commercial');
  for (const info_field of ['age_over_18', 'age_over_21', 'age']) {
    const res = await app.request('POST', '/api/v1/profile/share-create', {
      token: person.token,
      json: { service_id: shop.service.client_id, info_field },
    });
    assertError(t, res, 409, 'credential_required', /add a credential .* and confirm it first/);
  }
  t.is(
    await app.service.deps
      .db('shares')
      .count({ n: '*' })
      .where({ user_id: person.user_id })
      .first()
      .then((r) => Number(r?.n)),
    0,
  );
});

test('a service whose role may not receive date_of_birth cannot get it through share-create; one whose role may, can', async (t) => {
  const person = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial');
  const refused = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: shop.service.client_id, info_field: 'date_of_birth' },
  });
  assertError(t, refused, 403, 'field_not_shareable', /commercial services/);
  t.is(
    await app.service.deps
      .db('shares')
      .count({ n: '*' })
      .where({ client_id: shop.service.client_id })
      .first()
      .then((r) => Number(r?.n)),
    0,
  );

  const agency = await registerClient(app, 'government');
  const allowed = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: agency.service.client_id, info_field: 'date_of_birth' },
  });
  t.is(allowed.status, 201, allowed.text);
  t.deepEqual(
    decodeShare(allowed.body.verification_token).disclosures.map((d) => d.slice(1)),
    [['date_of_birth', '1990-12-10']],
  );

  // A field the role may receive but the person never set: nothing to share, nothing written.
  const unset = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: agency.service.client_id, info_field: 'phone' },
  });
  assertError(t, unset, 403, 'field_not_shareable', /no value to share for phone/);

  // The person's own rings count too: date_of_birth moved to restricted is out of the agency's reach.
  const moved = await app.request('POST', '/api/v1/profile/privilege-rings', {
    token: person.token,
    json: { ring_name: 'restricted', assigned_data: { fields: ['date_of_birth'] } },
  });
  t.is(moved.status, 200, moved.text);
  const now = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: agency.service.client_id, info_field: 'date_of_birth' },
  });
  assertError(t, now, 403, 'field_not_shareable');
});

test('age_over_21 and age are computed from the verified date of birth; an unknown field or service is refused', async (t) => {
  const person = await registerPerson(app);
  const year = new Date().getUTCFullYear() - 19;
  await markDateOfBirthVerified(app, person, `${year}-01-01`);
  const shop = await registerClient(app, 'commercial');
  const share = async (info_field: string) =>
    app.request('POST', '/api/v1/profile/share-create', { token: person.token, json: { service_id: shop.service.client_id, info_field } });
  const over21 = await share('age_over_21');
  t.is(over21.status, 201, over21.text);
  t.deepEqual(
    decodeShare(over21.body.verification_token).disclosures.map((d) => d.slice(1)),
    [['age_over_21', false]],
  );
  const age = await share('age');
  t.deepEqual(
    decodeShare(age.body.verification_token).disclosures.map((d) => d.slice(1)),
    [['age', 19]],
  );
  assertError(t, await share('shoe_size'), 400, 'unknown_info_field', /age_over_18/);
  const ghost = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: 'svc_nobody', info_field: 'age' },
  });
  assertError(t, ghost, 404, 'service_not_found');
  assertError(t, await app.request('POST', '/api/v1/profile/share-create', { json: { service_id: 'x', info_field: 'age' } }), 401, 'token_missing');
  assertError(t, await app.request('DELETE', '/api/v1/profile/shares/not-a-share', { token: person.token }), 400, 'validation_failed');
});

test("revoke-access for the service revokes its shares too; a person cannot revoke another person's share", async (t) => {
  const person = await registerPerson(app);
  const other = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial');
  const res = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: shop.service.client_id, info_field: 'age_over_18' },
  });
  t.is(res.status, 201, res.text);
  assertError(t, await app.request('DELETE', `/api/v1/profile/shares/${res.body.share_id}`, { token: other.token }), 404, 'share_not_found');

  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: shop.service.client_id } });
  t.is(revoke.status, 200, revoke.text);
  const jwks = await publishedJwks(app);
  const token = res.body.verification_token;
  t.true((await verifyShare(token, jwks, await statusListOf(token), shop.service.client_id)).revoked);
  t.like((await app.request('POST', '/api/v1/verify', { json: { verification_token: token } })).body, { valid: false, revoked: true });
});

test('the status list is cacheable: a short max-age, a weak ETag, 304 while unchanged, a new ETag after a revocation', async (t) => {
  const person = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial');
  const res = await app.request('POST', '/api/v1/profile/share-create', {
    token: person.token,
    json: { service_id: shop.service.client_id, info_field: 'age_over_18' },
  });
  const path = new URL(decodeShare(res.body.verification_token).payload.status.status_list.uri).pathname;
  const first = await app.request('GET', path);
  t.is(first.headers.get('content-type'), 'application/statuslist+jwt');
  t.is(first.headers.get('cache-control'), 'public, max-age=60');
  const etag = first.headers.get('etag')!;
  t.regex(etag, /^W\/"/);
  const again = await app.request('GET', path, { headers: { 'if-none-match': etag } });
  t.is(again.status, 304);
  await app.request('DELETE', `/api/v1/profile/shares/${res.body.share_id}`, { token: person.token });
  const changed = await app.request('GET', path, { headers: { 'if-none-match': etag } });
  t.is(changed.status, 200);
  t.not(changed.headers.get('etag'), etag);
  t.is(decodeShare(first.text).header.typ, 'statuslist+jwt');
  assertError(t, await app.request('GET', '/api/v1/status-lists/00000000-0000-4000-8000-000000000000'), 404, 'status_list_not_found');
});

test('POST /verify says why a token does not verify: expired, tampered, or not one of ours', async (t) => {
  const deps = app.service.deps;
  const [key] = await loadIssuerKeys(deps.db, deps.keyring);
  const past = new Date(Date.now() - 3600_000);
  const expired = await issueShareCredential(key, {
    issuer: app.config.baseUrl,
    clientId: 'svc',
    jti: 'j-expired',
    issuedAt: new Date(past.getTime() - 600_000),
    expiresAt: past,
    status: { idx: 0, uri: `${app.config.baseUrl}/api/v1/status-lists/00000000-0000-4000-8000-000000000000` },
    claims: { age_over_18: true },
  });
  t.like((await app.request('POST', '/api/v1/verify', { json: { verification_token: expired } })).body, {
    valid: false,
    reason: 'the token has expired',
  });
  const [jwt, ...rest] = expired.split('~');
  const [h, , s] = jwt.split('.');
  const forged = [
    `${h}.${Buffer.from(JSON.stringify({ vct: 'urn:ringfence:vct:share:1', age_over_18: true })).toString('base64url')}.${s}`,
    ...rest,
  ].join('~');
  t.like((await app.request('POST', '/api/v1/verify', { json: { verification_token: forged } })).body, { valid: false });
  t.like((await app.request('POST', '/api/v1/verify', { json: { verification_token: 'nonsense' } })).body, { valid: false, claims: {} });
});

test("the README's offline verification is exactly the code these tests run", (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /<!-- test\/shares\/verify-offline\.ts -->\n```ts\n([\s\S]*?)```\n/.exec(readme)?.[1];
  t.is(block, readFileSync(new URL('./verify-offline.ts', import.meta.url), 'utf8'));
});

test('the shares list is paginated like every list: limit, an opaque cursor, next_cursor null on the last page', async (t) => {
  const person = await registerPerson(app);
  const shop = await registerClient(app, 'commercial');
  for (const info_field of ['handle', 'name', 'handle']) {
    const res = await app.request('POST', '/api/v1/profile/share-create', {
      token: person.token,
      json: { service_id: shop.service.client_id, info_field },
    });
    t.is(res.status, 201, res.text);
  }
  const first = await app.request('GET', '/api/v1/profile/shares?limit=2', { token: person.token });
  t.is(first.body.shares.length, 2);
  t.truthy(first.body.next_cursor);
  const second = await app.request('GET', `/api/v1/profile/shares?limit=2&cursor=${first.body.next_cursor}`, { token: person.token });
  t.is(second.body.shares.length, 1);
  t.is(second.body.next_cursor, null);
  const ids = [...first.body.shares, ...second.body.shares].map((s: { share_id: string }) => s.share_id);
  t.is(new Set(ids).size, 3);
  t.deepEqual(second.body.shares[0].fields, ['handle'], 'newest first: the first share made is last');
  const forged = Buffer.from(JSON.stringify({ v: 1, t: '1', i: 'x' })).toString('base64url');
  assertError(t, await app.request('GET', `/api/v1/profile/shares?cursor=${forged}`, { token: person.token }), 400, 'invalid_cursor');
});
