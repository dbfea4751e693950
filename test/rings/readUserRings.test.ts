import test from 'ava';
import { importPolicy } from '../../src/features/rings/rings.ts';
import { readUserRings } from '../../src/features/rings/rings.repo.ts';
import { useTestApp } from '../helpers/app.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

// The ability cache is keyed by (person, rings version): settings read with a version they do not belong to would
// be served under that version until the next change, so a ring taken back could keep admitting its readers.
test('ring settings read while they change always carry the version they were committed with', async (t) => {
  const s = await register(app);
  const { deps } = app.service;
  const RINGS = ['semi-private', 'private', 'public'];
  /** Where the writer put bio, by the version its change committed. */
  const committed = new Map<number, string>([[0, 'public']]);
  const seen: { version: number; bio: string }[] = [];
  let writing = true;

  const writer = async () => {
    try {
      for (let k = 0; k < 60; k++) {
        const ring = RINGS[k % RINGS.length];
        const out = await importPolicy(deps, s.user_id, `version: 1\nplacements:\n  bio: ${ring}\n`, '127.0.0.1');
        committed.set(out.rings_version, ring);
      }
    } finally {
      writing = false;
    }
  };
  const reader = async () => {
    while (writing) {
      const rings = await readUserRings(deps.db, s.user_id);
      seen.push({ version: Number(rings.version), bio: rings.placements.bio ?? 'public' });
    }
  };
  await Promise.all([writer(), reader(), reader(), reader()]);

  const mismatched = seen.filter((r) => committed.get(r.version) !== r.bio);
  t.log(`${seen.length} reads during ${committed.size - 1} changes`);
  t.true(seen.length > 60, 'the readers ran alongside the writer');
  t.deepEqual(mismatched.slice(0, 5), [], `${mismatched.length} of ${seen.length} reads paired settings with another version`);
});
