/**
 * Ringfence's credential issuer keys (src/crypto/issuer-keys.ts): created once, sealed at rest, rotated by publishing
 * the new key before it signs and keeping the retired one published, and never opened (nor rotated) with another KEK.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Keyring } from '../../src/crypto/envelope.ts';
import { listIssuerKeys, liveIssuerKeys, loadIssuerKeys, publicIssuerJwk, rotateIssuerKeys } from '../../src/crypto/issuer-keys.ts';
import { RotationPending } from '../../src/crypto/signing-keys.ts';
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

test.serial('a rotated key is published first and signs only from its activation; another KEK opens and rotates nothing', async (t) => {
  const [before] = await loadIssuerKeys(store.db, keyring);
  const live = await liveIssuerKeys(store.db, keyring).open();
  t.teardown(() => live.close());
  const { kid, activatesAt } = await rotateIssuerKeys(store.db, keyring, { publishForSeconds: 2 });
  t.true(activatesAt.getTime() > Date.now(), 'it activates later, by the database clock');
  // Pending: published (it verifies), not signing.
  t.deepEqual(
    (await loadIssuerKeys(store.db, keyring)).map((k) => k.kid),
    [before.kid, kid],
  );
  await live.refresh();
  t.deepEqual(
    live.active.map((k) => k.kid),
    [before.kid],
  );
  t.deepEqual(
    live.published.map((k) => k.kid),
    [before.kid, kid],
  );
  await t.throwsAsync(() => rotateIssuerKeys(store.db, keyring, { publishForSeconds: 2 }), {
    instanceOf: RotationPending,
    message: new RegExp(`a rotation is already pending: ${kid} activates at`),
  });
  const stranger = new Keyring(randomBytes(32));
  await t.throwsAsync(() => rotateIssuerKeys(store.db, stranger), { instanceOf: DecryptionError });
  await t.throwsAsync(() => loadIssuerKeys(store.db, stranger), { instanceOf: DecryptionError });

  // At its activation the live set switches by itself (its timer), with no notice and no poll.
  const deadline = Date.now() + 10_000;
  while (live.active[0]?.kid !== kid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(
    live.active.map((k) => k.kid),
    [kid],
  );
  t.deepEqual(
    live.published.map((k) => k.kid),
    [kid, before.kid],
    'the retired key stays published',
  );
  const listed = await listIssuerKeys(store.db);
  t.like(
    listed.find((k) => k.kid === kid),
    { state: 'active', published: true },
  );
  const retired = listed.find((k) => k.kid === before.kid)!;
  t.like(retired, { state: 'retired', published: true });
  t.is(new Date(retired.retired_at!).getTime(), activatesAt.getTime(), 'retired at the moment its successor activated');
});
