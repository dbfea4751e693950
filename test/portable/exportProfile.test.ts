/**
 * The portable container between two instances (two servers, two databases): exported from A, encrypted to the
 * person's public key (unreadable without their private key), signed by A (verifiable from A's JWKS), imported into
 * a newly registered account on B with every field, ring, record, credential, document, emergency setting and
 * provenance equal; a flipped byte refused.
 */
import test from 'ava';
import { compactDecrypt, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { startTestApp, type TestApp, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { fetchJwks } from '../helpers/oidc.ts';
import { auditEvents, register } from '../accounts/fixtures.ts';
import { keyPair, registerWithKey } from '../passkeys/fixtures.ts';
import { addLicence } from '../credentials/fixtures.ts';
import { FIELDS, fillProfile, fillFeatures, profileView, featuresView } from './fixtures.ts';

const a = useTestApp({ name: 'portable-instance-a' });
let b: TestApp;
test.serial.before(async () => {
  b = await startTestApp({ name: 'portable-instance-b' });
});
test.after.always(async () => {
  await b?.close();
});

/** Flips one bit of the byte in the middle of the `part`-th dot-separated part of a compact JOSE string. */
function flip(compact: string, part: number): string {
  const parts = compact.split('.');
  const bytes = Buffer.from(parts[part], 'base64url');
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

test.serial(
  'export from A, import into B: every field, ring, record, credential, document, emergency setting and provenance equal; A’s verified fields marked as A’s',
  async (t) => {
    const person = await registerWithKey(a, 'p256');
    await fillProfile(a, person);
    // A licence photographed and confirmed on A: the name, birth date, address and licence number verified by it.
    const added = await addLicence(a, person.token);
    const confirmed = await a.request('POST', `/api/v1/profile/credentials/${added.credential_id}/confirm`, { token: person.token });
    t.is(confirmed.status, 200, confirmed.text);
    const credentialA: string = added.credential_id;
    const features = await fillFeatures(a, person);
    const exported = await a.request('GET', '/api/v1/profile/export', { token: person.token });
    t.is(exported.status, 200, exported.text);
    t.regex(exported.headers.get('content-type') ?? '', /^application\/jose/);
    t.regex(exported.headers.get('content-disposition') ?? '', /attachment; filename="ringfence-profile-.*\.jwe"/);
    const file = exported.text;
    const header = decodeProtectedHeader(file);
    t.like(header, { alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });

    // Nothing of the profile is readable in the file: every part, decoded, holds none of the values.
    const decodedParts = file
      .split('.')
      .map((p) => Buffer.from(p, 'base64url').toString('latin1'))
      .join('\n');
    for (const value of [
      'Analyst of engines',
      'penicillin',
      'P1234567',
      person.person.email,
      'My doctors',
      'SACRAMENTO',
      'Kingsway Rentals',
      'insulin',
      'mary@example.org',
    ])
      t.false(decodedParts.includes(value), value);
    // Another private key opens nothing; the person's own does.
    await t.throwsAsync(compactDecrypt(file, keyPair('p256').privateKey));
    const { plaintext } = await compactDecrypt(file, person.privateKey);
    const jws = new TextDecoder().decode(plaintext);
    // Signed by A, verifiable from A's published JWKS.
    const aJwks = await fetchJwks(a);
    const verified = await compactVerify(jws, createLocalJWKSet(aJwks as never));
    t.is(verified.protectedHeader.typ, 'ringfence-profile+jws');
    const payload = JSON.parse(new TextDecoder().decode(verified.payload));
    t.is(payload.iss, `${a.url}/oidc`);
    t.deepEqual(Object.keys(payload.sections).sort(), [
      'avatar',
      'credentials',
      'documents',
      'emergency',
      'fields',
      'grants',
      'health_records',
      'rings',
      'shares',
    ]);
    for (const secret of [
      'token',
      'refresh_token',
      'password',
      'password_hash',
      'biometrics',
      'access_hash',
      'wrapped_dek',
      'decline_hash',
      'card_hash',
      'card_sealed',
      'card_id',
    ]) {
      t.false(new RegExp(`"${secret}"`).test(JSON.stringify(payload)), `no ${secret} in the container`);
    }

    // On B: the person registers anew, with the same key, and imports what they decrypted themselves.
    const onB = await register(b, { ...person.person, public_key: person.publicPem } as never);
    const imported = await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { signed: jws } });
    t.is(imported.status, 200, imported.text);
    t.is(imported.body.issuer, `${a.url}/oidc`);
    t.true(imported.body.issuer_verified);
    t.is(
      imported.body.sections.fields.imported,
      Object.keys(FIELDS).length + 2,
      'the fields set, the name and the licence number (e-mail and handle are the account’s own)',
    );
    t.is(imported.body.sections.credentials.imported, 1);
    t.is(imported.body.sections.documents.imported, 2);
    t.is(imported.body.sections.emergency.imported, 1);
    t.true(
      (imported.body.sections.documents.skipped as string[]).some((m) => m.includes(features.serviceId) && m.includes('other instance')),
      'a document’s link to A’s service is not carried, and the answer says so',
    );
    t.is(imported.body.sections.rings.imported, 1);
    t.is(imported.body.sections.avatar.imported, 1);

    const viewA = await profileView(a, person.token);
    const viewB = await profileView(b, onB.token);
    const issuerA = `${a.url}/oidc`;
    const restored = await featuresView(b, onB.token);
    const original = await featuresView(a, person.token);
    t.is(restored.credentials.length, 1);
    const credentialB = restored.credentialIds[0];
    t.not(credentialB, credentialA, 'the credential has a new id on B');
    t.is(viewB.fields.passport_number.provenance, `imported:${issuerA}:credential:passport-0001`, 'a verified field is marked as verified by A');
    t.is(viewA.fields.date_of_birth.provenance, `credential:${credentialA}`);
    t.is(viewB.fields.date_of_birth.value, '1990-01-31');
    t.is(
      viewB.fields.date_of_birth.provenance,
      `imported:${issuerA}:credential:${credentialB}`,
      'a field the licence verified points at the licence restored on B, marked as verified by A',
    );
    const expected = structuredClone(viewA);
    expected.fields.passport_number.provenance = `imported:${issuerA}:credential:passport-0001`;
    for (const f of Object.values(expected.fields)) {
      if (f.provenance === `credential:${credentialA}`) f.provenance = `imported:${issuerA}:credential:${credentialB}`;
    }
    t.deepEqual(viewB.fields, expected.fields, 'every field: value, ring and provenance');

    // The credential: its type, state, checks, extraction and photo equal; the fields it applied point at it on B.
    const expectedCredentials = JSON.parse(
      JSON.stringify(original.credentials).replaceAll(`"credential:${credentialA}"`, `"imported:${issuerA}:credential:${credentialB}"`),
    );
    t.deepEqual(restored.credentials, expectedCredentials, 'every credential, with its checks and applied fields');
    t.true(restored.credentials[0].checks.length > 0);
    t.deepEqual(restored.images, original.images, 'the same photo');
    const sealedB = await b.service.deps.db('credentials').where({ id: credentialB }).first();
    t.false(Buffer.from(sealedB.extraction).toString('latin1').includes('SACRAMENTO'), 'the extraction is sealed again on B');
    // Sealed under B's profile key: A's key would not open it, and B's own API just did.
    t.is(sealedB.profile_id, onB.profile_id);

    // Documents: own fields, references and roles equal; the service link is A's and stays there.
    t.deepEqual(
      restored.documents,
      original.documents.map((d) => ({ ...d, services: [] })),
      'every document, without A’s services',
    );
    t.deepEqual(original.documents.find((d) => d.title === 'Flat lease')?.services, [features.serviceId]);

    // The emergency setup: equal, under its own new data key, with a new card; no access log carried.
    t.deepEqual(restored.emergency, original.emergency, 'the emergency setup, contacts and their states');
    const rowA = await a.service.deps.db('emergency_access').where({ user_id: person.user_id }).first();
    const rowB = await b.service.deps.db('emergency_access').where({ user_id: onB.user_id }).first();
    t.not(rowB.card_hash, rowA.card_hash, 'a new card id on B');
    t.false(Buffer.from(rowB.sealed).toString('latin1').includes('insulin'), 'the setup is sealed on B');
    t.is((await a.service.deps.db('emergency_openings').where({ user_id: person.user_id })).length, 1, 'A has an access log entry');
    t.is((await b.service.deps.db('emergency_openings').where({ user_id: onB.user_id })).length, 0, 'no access log carried');
    const told = (await b.service.deps.db('outbox').where('subject', 'like', '%named you a trusted contact%')).length;
    t.is(told, 1, 'the contact who had not declined is told by B (a new decline token); the one who declined is not');
    t.deepEqual(viewB.rings, viewA.rings, 'the custom ring, with the roles it admits');
    t.is(viewA.records.length, 2);
    t.deepEqual(viewB.records, viewA.records, 'every health record');
    t.is(imported.body.sections.health_records.imported, 2);
    t.is(viewB.fields.allergies.ring, 'custom ring My doctors');
    t.is(viewB.fields.phone.ring, 'restricted');
    t.truthy(viewA.avatar);
    t.is(viewB.avatar, viewA.avatar, 'the same picture');

    // Never carried over: sessions, grants, tokens of A.
    t.is((await b.service.deps.db('oidc_payloads').where({ account_id: onB.user_id })).length, 0);
    t.is((await b.service.deps.db('sessions').where({ user_id: onB.user_id })).length, 1, 'only the session of B’s own registration');
    t.true((await auditEvents(b, 'profile.imported')).some((e) => e.subject === `user:${onB.user_id}` && e.data.issuer === issuerA));
    t.true((await auditEvents(a, 'profile.exported')).some((e) => e.subject === `user:${person.user_id}`));

    // Once only, into a new account only.
    assertError(t, await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { signed: jws } }), 409, 'import_not_allowed');

    // Deleting the restored licence on B takes back what it verified there, as for one read on B.
    const deleted = await b.request('DELETE', `/api/v1/profile/credentials/${credentialB}`, { token: onB.token });
    t.is(deleted.status, 200, deleted.text);
    t.true((deleted.body.unverified_fields as string[]).includes('date_of_birth'));
    t.is((await profileView(b, onB.token)).fields.date_of_birth.provenance, 'user');
  },
);

test.serial('a flipped byte is refused: in the encrypted file, and in the signed payload', async (t) => {
  const person = await registerWithKey(a, 'rsa');
  await fillProfile(a, person);
  const file = (await a.request('GET', '/api/v1/profile/export', { token: person.token })).text;
  t.is(decodeProtectedHeader(file).alg, 'RSA-OAEP-256');
  await t.throwsAsync(compactDecrypt(flip(file, 3), person.privateKey), undefined, 'the ciphertext no longer authenticates');
  const jws = new TextDecoder().decode((await compactDecrypt(file, person.privateKey)).plaintext);
  const onB = await register(b);
  for (const altered of [flip(jws, 1), flip(jws, 2)]) {
    assertError(t, await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { signed: altered } }), 400);
  }
  const res = await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { signed: flip(jws, 2) } });
  assertError(t, res, 400, 'container_signature_invalid', /does not verify/);
  t.is((await b.service.deps.db('profile_imports').where({ user_id: onB.user_id })).length, 0, 'nothing was written');
  t.is((await b.service.deps.db('rings').where({ user_id: onB.user_id })).length, 0);
});

test.serial(
  'a passphrase export imports with its passphrase and the exporter’s JWKS given offline; a wrong passphrase or a flipped byte is refused',
  async (t) => {
    const person = await register(a);
    await fillProfile(a, person);
    const noKey = await a.request('GET', '/api/v1/profile/export', { token: person.token });
    assertError(t, noKey, 409, 'no_public_key');
    const passphrase = 'a long and private passphrase';
    const exported = await a.request('POST', '/api/v1/profile/export', { token: person.token, json: { passphrase } });
    t.is(exported.status, 200, exported.text);
    t.like(decodeProtectedHeader(exported.text), { alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 210000 });
    const onB = await register(b, person.person);
    assertError(
      t,
      await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { container: exported.text, passphrase: 'wrong' } }),
      400,
      'container_invalid',
    );
    assertError(
      t,
      await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { container: flip(exported.text, 3), passphrase } }),
      400,
      'container_invalid',
      /altered/,
    );
    // Offline: A's JWKS as a file the person kept (here, with an unreachable issuer it is the only way).
    const jwks = await fetchJwks(a);
    const res = await b.request('POST', '/api/v1/profile/import', { token: onB.token, json: { container: exported.text, passphrase, jwks } });
    t.is(res.status, 200, res.text);
    t.false(res.body.issuer_verified, 'keys the person gave vouch for the file, not for the issuer’s name');
    const viewA = await profileView(a, person.token);
    const viewB = await profileView(b, onB.token);
    t.deepEqual(viewB.rings, viewA.rings);
    t.deepEqual(viewB.fields.allergies, viewA.fields.allergies);
    t.deepEqual(viewB.fields.home_address, viewA.fields.home_address);
    t.is(viewB.fields.passport_number.provenance, `imported-unverified:${a.url}/oidc:credential:passport-0001`);
    // A JWKS that is not the exporter's does not verify it.
    const other = await register(b);
    const wrongKeys = await fetchJwks(b);
    assertError(
      t,
      await b.request('POST', '/api/v1/profile/import', { token: other.token, json: { container: exported.text, passphrase, jwks: wrongKeys } }),
      400,
      'container_signature_invalid',
    );
  },
);

test('an Ed25519 key cannot receive encryption: the export says to use a passphrase', async (t) => {
  const person = await registerWithKey(a, 'ed25519');
  assertError(t, await a.request('GET', '/api/v1/profile/export', { token: person.token }), 409, 'export_key_unsupported', /passphrase/);
});
