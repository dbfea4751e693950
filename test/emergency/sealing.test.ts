/**
 * The emergency information is sealed under a data key of its own: the raw row shows none of it, the profile's key
 * does not open it, and destroying the profile's key leaves it sealed and still its own.
 */
import test from 'ava';
import { open } from '../../src/crypto/envelope.ts';
import { openProfile, type ProfileKeyRow } from '../../src/disclosure/container.ts';
import { DecryptionError } from '../../src/errors.ts';
import { useTestApp } from '../helpers/app.ts';
import { MEDICAL, personWithSetup } from './fixtures.ts';

const app = useTestApp();

const PLAINTEXTS = [
  'penicillin',
  'insulin',
  'diabetes',
  'resuscitate',
  'Grace Hopper',
  'grace@example.org',
  'unconsciousness',
  'emergency_contact',
  'O-',
];

test('the raw row is unreadable; the profile key does not open it; destroying the profile key does not open it either', async (t) => {
  const person = await personWithSetup(app, [{ name: 'Grace Hopper', email: 'grace@example.org' }]);
  const db = app.service.deps.db;
  const { rows } = await db.raw('select * from emergency_access where user_id = ?', [person.user_id]);
  t.is(rows.length, 1);
  const row = rows[0];
  // Every column as the database holds it: none shows any of the setup.
  const raw = Object.values(row)
    .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)))
    .join('\n');
  for (const text of PLAINTEXTS) t.false(raw.includes(text), `the row does not show ${text}`);
  t.not(Buffer.compare(Buffer.from(row.wrapped_dek), Buffer.alloc(0)), 0);

  // Its key is its own: wrapped for the setup, never the profile's.
  const profileRow = (await db('profiles').where({ user_id: person.user_id }).first()) as ProfileKeyRow;
  t.notDeepEqual(Buffer.from(profileRow.wrapped_dek), Buffer.from(row.wrapped_dek));
  const profileKey = openProfile(app.service.deps.keyring, profileRow).dek;
  t.throws(() => open(profileKey, Buffer.from(row.sealed), `emergency_access:${row.id}`), { instanceOf: DecryptionError });
  // Nor does the profile's wrapping open the setup's key (it is bound to the setup's id).
  t.throws(() => app.service.deps.keyring.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_dek) }, `profile:${profileRow.id}`), {
    instanceOf: DecryptionError,
  });

  // Destroy the profile's key: the emergency row is untouched, still sealed, and still opens with its own key only.
  await db('profiles')
    .where({ id: profileRow.id })
    .update({ wrapped_dek: Buffer.alloc(60, 7) });
  const after = (await db('emergency_access').where({ user_id: person.user_id }).first()) as typeof row;
  t.deepEqual(Buffer.from(after.sealed), Buffer.from(row.sealed));
  t.throws(() => open(profileKey, Buffer.from(after.sealed), `emergency_access:${row.id}`), { instanceOf: DecryptionError });
  const mine = await app.request('GET', '/api/v1/profile/emergency-access', { token: person.token });
  t.is(mine.status, 200, mine.text);
  t.like(mine.body.emergency_info, MEDICAL);
});
