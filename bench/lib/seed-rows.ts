/**
 * The rows of bulk users n = from..to-1, built exactly as the repository functions build them — the user as
 * insertUser writes it, the profile with a fresh data key wrapped by the KEK as insertProfile does, every field
 * sealed under that key with its row's associated data as writeFields does. Pure, so seed-worker.ts can build
 * batches on other cores while the main thread inserts.
 */
import { randomUUID } from 'node:crypto';
import { newDataKey, seal, type Keyring } from '../../src/crypto/envelope.ts';
import { emailIndex } from '../../src/features/accounts/email.ts';
import { loadCatalogue } from '../../src/policy/catalogue.ts';
import { fieldAad } from '../../src/disclosure/container.ts';
import type { FieldWrite } from '../../src/profiles/profile.repo.ts';
import { emailOf, handleOf, profileValues } from './profiles.ts';

/** Fields registration itself writes (with provenance `registration`). */
export const REGISTRATION_FIELDS: ReadonlySet<string> = new Set(['name', 'email', 'handle']);

export interface BulkRows {
  users: Record<string, unknown>[];
  profiles: Record<string, unknown>[];
  fields: Record<string, unknown>[];
}

let loaded: ReturnType<typeof loadCatalogue> | undefined;

/** The field writes of user n, as registration plus one update-info would make them. */
export function fieldWrites(n: number): FieldWrite[] {
  // Loaded once per thread: reading and validating policies/ takes tens of milliseconds, per user it was most
  // of the seeding time.
  loaded ??= loadCatalogue();
  const catalogue = loaded;
  return Object.entries(profileValues(catalogue, n)).map(([field, value]) => ({
    field,
    value,
    ring: catalogue.fields.get(field)!.ring,
    provenance: REGISTRATION_FIELDS.has(field) ? 'registration' : 'user',
  }));
}

export function buildRows(keyring: Keyring, from: number, to: number, passwordHash: string): BulkRows {
  const out: BulkRows = { users: [], profiles: [], fields: [] };
  const now = new Date();
  for (let n = from; n < to; n++) {
    const userId = randomUUID();
    const handle = handleOf(n);
    out.users.push({
      id: userId,
      email_index: emailIndex(keyring, emailOf(n)),
      handle,
      password_hash: passwordHash,
      handle_lower: handle.toLowerCase(),
    });
    const profileId = randomUUID();
    const dek = newDataKey();
    const wrapped = keyring.wrap(dek, `profile:${profileId}`);
    out.profiles.push({ id: profileId, user_id: userId, wrapped_dek: wrapped.wrapped, kek_id: wrapped.kekId, version: 1 });
    for (const w of fieldWrites(n)) {
      out.fields.push({
        profile_id: profileId,
        field: w.field,
        value: seal(dek, JSON.stringify(w.value), fieldAad(profileId, w.field)),
        ring: w.ring,
        provenance: w.provenance,
        updated_at: now,
      });
    }
  }
  return out;
}
