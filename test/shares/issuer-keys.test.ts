/**
 * Ringfence's credential issuer keys (src/crypto/issuer-keys.ts): created once, sealed at rest, rotated with the
 * retired key still published, and never opened (nor rotated) with another KEK.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Keyring } from '../../src/crypto/envelope.ts';
import { loadIssuerKeys, publicIssuerJwk, rotateIssuerKeys } from '../../src/crypto/issuer-keys.ts';
import { DecryptionError } from '../../src/errors.ts';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();
const keyring = new Keyring(randomBytes(32));

test.serial('one active ES256 key is created once and stored sealed; the JWKS shows only its public part', async (t) => {
  const [first] = await loadIssuerKeys(store.db, keyring);
  const again = await loadIssuerKeys(store.db, keyring);
  t.is(again.length, 1);
  t.is(again[0].kid, first.kid);
  t.is(first.alg, 'ES256');
  const row = (await store.db('issuer_keys').first()) as { private_jwk: Buffer };
  t.false(Buffer.from(row.private_jwk).toString('latin1').includes(first.d!), 'the private key is sealed at rest');
  t.deepEqual(Object.keys(publicIssuerJwk(first)).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  // The provider's signing keys are another table: rotating or publishing one never touches the other.
  t.is(Number((await store.db('signing_keys').count({ n: '*' }).first())?.n), 0);
});

test.serial('rotation puts a new key first and keeps the retired one published; another KEK opens and rotates nothing', async (t) => {
  const [before] = await loadIssuerKeys(store.db, keyring);
  const kid = await rotateIssuerKeys(store.db, keyring);
  const keys = await loadIssuerKeys(store.db, keyring);
  t.deepEqual(
    keys.map((k) => k.kid),
    [kid, before.kid],
  );
  const stranger = new Keyring(randomBytes(32));
  await t.throwsAsync(() => rotateIssuerKeys(store.db, stranger), { instanceOf: DecryptionError });
  await t.throwsAsync(() => loadIssuerKeys(store.db, stranger), { instanceOf: DecryptionError });
  t.is((await loadIssuerKeys(store.db, keyring))[0].kid, kid, 'the refused rotation changed nothing');
});
