// What the disclosure pipeline opens to present released values (src/disclosure/values.ts): the released fields
// and the sources of derived ones, and the handle only when an image is presented (its URL names the handle).
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Keyring } from '../../src/crypto/envelope.ts';
import { newProfileKey, sealFieldValue } from '../../src/disclosure/container.ts';
import type { ProfileSnapshot } from '../../src/disclosure/snapshot.repo.ts';
import { valuesFromSnapshot } from '../../src/disclosure/values.ts';
import { loadCatalogue } from '../../src/policy/catalogue.ts';

const keyring = new Keyring(randomBytes(32));
const catalogue = loadCatalogue();
const deps = { keyring, config: { baseUrl: 'https://rf.example' }, policy: { policies: { catalogue } } };
const picture = { sha256: 'ab'.repeat(32), content_type: 'image/png', width: 1, height: 1 };

/** A snapshot whose handle cannot be opened (sealed for another field): any attempt to open it throws. */
function snapshotWithSealedAwayHandle(): ProfileSnapshot {
  const id = 'c3f2a7a4-5b1e-4d43-9f7e-0d2b8f3b1a11';
  const { dek, wrapped } = newProfileKey(keyring, id);
  const profile = { id, userId: 'u', version: 1, dek };
  const sealed = (field: string, value: unknown, as = field) => sealFieldValue(profile, as, value).toString('base64');
  return {
    profile: { id, user_id: 'u', wrapped_dek: wrapped.wrapped, kek_id: wrapped.kekId, version: 1 },
    fields: [
      { field: 'email', ring: 'private', sealed: sealed('email', 'ada@example.com') },
      { field: 'date_of_birth', ring: 'private', sealed: sealed('date_of_birth', '1990-01-02') },
      { field: 'avatar', ring: 'public', sealed: sealed('avatar', picture) },
      { field: 'handle', ring: 'public', sealed: sealed('handle', 'ada', 'email') },
    ],
    customRings: [],
    ringsVersion: 0,
  };
}

test('a release without an image opens neither the handle nor any field it does not present', (t) => {
  const values = valuesFromSnapshot(deps, snapshotWithSealedAwayHandle(), ['email', 'age_over_18']);
  t.deepEqual(values, { email: 'ada@example.com', age_over_18: true });
});

test('a release of an image opens the handle its URL is served under', (t) => {
  t.throws(() => valuesFromSnapshot(deps, snapshotWithSealedAwayHandle(), ['avatar']), { message: /authentication/ });
});
