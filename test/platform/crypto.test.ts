import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Keyring, newDataKey, open, seal } from '../../src/crypto/envelope.ts';
import { hashToken, newToken, safeEqual } from '../../src/crypto/tokens.ts';
import { DecryptionError } from '../../src/errors.ts';

test('a sealed value opens with its key and row binding', (t) => {
  const key = newDataKey();
  const sealed = seal(key, 'Burnaby 4024', 'profile_fields:p1:home_address');
  t.is(open(key, sealed, 'profile_fields:p1:home_address').toString('utf8'), 'Burnaby 4024');
});

test('a ciphertext with any one flipped byte fails to open with an error, never garbage', (t) => {
  const key = newDataKey();
  const sealed = seal(key, 'blood type O-', 'row:1');
  for (let i = 0; i < sealed.length; i++) {
    const tampered = Buffer.from(sealed);
    tampered[i] ^= 0x01;
    t.throws(() => open(key, tampered, 'row:1'), { instanceOf: DecryptionError }, `byte ${i}`);
  }
});

test('a ciphertext copied to another row fails to open', (t) => {
  const key = newDataKey();
  const sealed = seal(key, 'secret', 'profile_fields:p1:email');
  t.throws(() => open(key, sealed, 'profile_fields:p2:email'), { instanceOf: DecryptionError });
});

test('truncated ciphertexts fail', (t) => {
  const key = newDataKey();
  const sealed = seal(key, 'secret', 'r');
  t.throws(() => open(key, sealed.subarray(0, 20), 'r'), { instanceOf: DecryptionError });
  t.throws(() => open(key, sealed.subarray(0, sealed.length - 1), 'r'), { instanceOf: DecryptionError });
});

test('data keys are wrapped by the KEK and bound to their owner', (t) => {
  const ring = new Keyring(randomBytes(32));
  const dek = newDataKey();
  const wrapped = ring.wrap(dek, 'profile:p1');
  t.notDeepEqual(wrapped.wrapped.subarray(29), dek);
  t.deepEqual(ring.unwrap(wrapped, 'profile:p1'), dek);
  t.throws(() => ring.unwrap(wrapped, 'profile:p2'), { instanceOf: DecryptionError });
});

test('an unwrapped data key is kept, but only for the same owner and the exact same wrapped bytes', (t) => {
  const ring = new Keyring(randomBytes(32));
  const dek = newDataKey();
  const wrapped = ring.wrap(dek, 'profile:p1');
  t.deepEqual(ring.unwrap(wrapped, 'profile:p1'), dek);
  t.is(ring.cachedDataKeys, 1);
  t.deepEqual(ring.unwrap(wrapped, 'profile:p1'), dek);
  t.throws(() => ring.unwrap(wrapped, 'profile:p2'), { instanceOf: DecryptionError });
  for (let i = 0; i < wrapped.wrapped.length; i++) {
    const tampered = Buffer.from(wrapped.wrapped);
    tampered[i] ^= 0x01;
    t.throws(() => ring.unwrap({ kekId: wrapped.kekId, wrapped: tampered }, 'profile:p1'), { instanceOf: DecryptionError }, `byte ${i}`);
  }
  // Re-wrapping the same key (a rotation does) gives other bytes, which are opened afresh.
  const rewrapped = ring.wrap(dek, 'profile:p1');
  t.deepEqual(ring.unwrap(rewrapped, 'profile:p1'), dek);
  t.is(ring.cachedDataKeys, 2);
});

test('the unwrapped data keys kept are bounded, and a key dropped from them still opens', (t) => {
  const ring = new Keyring(randomBytes(32), { cacheEntries: 2 });
  const keys = ['a', 'b', 'c'].map((owner) => ({ owner, dek: newDataKey() }));
  const wrapped = keys.map((k) => ring.wrap(k.dek, k.owner));
  ring.unwrap(wrapped[0], 'a');
  ring.unwrap(wrapped[1], 'b');
  ring.unwrap(wrapped[0], 'a');
  ring.unwrap(wrapped[2], 'c');
  t.is(ring.cachedDataKeys, 2);
  for (const [i, k] of keys.entries()) t.deepEqual(ring.unwrap(wrapped[i], k.owner), k.dek);
  const uncached = new Keyring(randomBytes(32), { cacheEntries: 0 });
  uncached.unwrap(uncached.wrap(newDataKey(), 'x'), 'x');
  t.is(uncached.cachedDataKeys, 0);
});

test('a data key wrapped by another KEK is refused with a message naming both keys', (t) => {
  const a = new Keyring(randomBytes(32));
  const b = new Keyring(randomBytes(32));
  const err = t.throws(() => b.unwrap(a.wrap(newDataKey(), 'x'), 'x'), { instanceOf: DecryptionError });
  t.true(err!.message.includes(a.kekId) && err!.message.includes(b.kekId));
});

test('derived purpose keys are stable per KEK and differ between purposes', (t) => {
  const kek = randomBytes(32);
  t.deepEqual(new Keyring(kek).derive('outbox'), new Keyring(kek).derive('outbox'));
  t.notDeepEqual(new Keyring(kek).derive('outbox'), new Keyring(kek).derive('signing-keys'));
});

test('tokens are 256-bit random, hashed to hex, and compared in constant time', (t) => {
  const a = newToken();
  t.is(Buffer.from(a, 'base64url').length, 32);
  t.not(a, newToken());
  t.regex(hashToken(a), /^[0-9a-f]{64}$/);
  t.true(safeEqual(hashToken(a), hashToken(a)));
  t.false(safeEqual(hashToken(a), hashToken(newToken())));
  t.false(safeEqual('short', 'longer string'));
});
