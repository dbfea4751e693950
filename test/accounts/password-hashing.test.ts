/**
 * argon2id runs at most one computation per core at once (PASSWORD_HASH_SLOTS): a burst of hashes and verifications
 * waits its turn, each still answered, right and in full.
 */
import test from 'ava';
import { PASSWORD_HASH_SLOTS, hashPassword, passwordHashesRunning, verifyPassword } from '../../src/crypto/passwords.ts';

test('a burst of hashes and verifications runs at most one per core at once, and every one is answered rightly', async (t) => {
  const password = 'a quiet lighthouse keeper';
  const stored = await hashPassword(password);
  let most = 0;
  const sample = setInterval(() => {
    most = Math.max(most, passwordHashesRunning());
  }, 1);
  const burst = PASSWORD_HASH_SLOTS * 4;
  const work = Array.from({ length: burst }, (_, i) =>
    i % 2 === 0 ? hashPassword(`${password} ${i}`).then((h) => h.startsWith('$argon2id$')) : verifyPassword(stored, i % 4 === 1 ? password : 'wrong'),
  );
  most = Math.max(most, passwordHashesRunning());
  const answers = await Promise.all(work);
  clearInterval(sample);
  t.is(most, PASSWORD_HASH_SLOTS, 'the burst filled every slot and no more');
  t.deepEqual(
    answers,
    Array.from({ length: burst }, (_, i) => i % 2 === 0 || i % 4 === 1),
  );
  t.is(passwordHashesRunning(), 0, 'every slot given back');
  // A malformed hash is a mismatch, and gives its slot back too.
  t.false(await verifyPassword('$argon2id$nonsense', password));
  t.is(passwordHashesRunning(), 0);
});
