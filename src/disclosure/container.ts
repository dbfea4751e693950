/**
 * The profile container: one data key (DEK) per profile, wrapped by the KEK, and every field value sealed under it
 * with associated data `profile_fields:<profile_id>:<field>`, so a value copied to another row or profile fails to
 * open. The profile feature writes the container; the disclosure pipeline opens the fields it releases.
 */
import { newDataKey, open, seal, type Keyring, type WrappedKey } from '../crypto/envelope.ts';

/** The columns of a profile row that name and hold its data key. */
export interface ProfileKeyRow {
  id: string;
  user_id: string;
  wrapped_dek: Uint8Array;
  kek_id: string;
  version: number;
}

/** A profile with its data key unwrapped: what reading or writing its sealed values needs. */
export interface OpenProfile {
  id: string;
  userId: string;
  version: number;
  dek: Buffer;
}

/** Associated data binding a sealed value to its profile and field. */
export function fieldAad(profileId: string, field: string): string {
  return `profile_fields:${profileId}:${field}`;
}

/** The owner a profile's wrapped data key is bound to (a master-key rotation re-wraps it under the same). */
export const profileOwner = (profileId: string) => `profile:${profileId}`;

/** A fresh data key for a new profile, and that key wrapped by the KEK for its row. */
export function newProfileKey(keyring: Keyring, profileId: string): { dek: Buffer; wrapped: WrappedKey } {
  const dek = newDataKey();
  return { dek, wrapped: keyring.wrap(dek, profileOwner(profileId)) };
}

/** Unwraps the data key of a profile row. */
export function openProfile(keyring: Keyring, row: ProfileKeyRow): OpenProfile {
  const dek = keyring.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_dek) }, profileOwner(row.id));
  return { id: row.id, userId: row.user_id, version: row.version, dek };
}

/** Seals one field's value (JSON) for its row. */
export function sealFieldValue(profile: OpenProfile, field: string, value: unknown): Buffer {
  return seal(profile.dek, JSON.stringify(value), fieldAad(profile.id, field));
}

/** Opens one field's sealed value (JSON); null stays null. */
export function openFieldValue(profile: OpenProfile, field: string, sealed: Uint8Array | null): unknown {
  if (sealed === null) return null;
  // A view, not a copy: open() only reads it.
  const bytes = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  return JSON.parse(open(profile.dek, bytes, fieldAad(profile.id, field)).toString('utf8'));
}

/** Seals a value of another table under the profile's key (biometrics, status posts, avatars), bound to `aad`. */
export function sealForProfile(profile: OpenProfile, plaintext: string | Buffer, aad: string): Buffer {
  return seal(profile.dek, plaintext, aad);
}

/** Opens a value sealed by sealForProfile. */
export function openForProfile(profile: OpenProfile, sealed: Uint8Array, aad: string): Buffer {
  return open(profile.dek, Buffer.from(sealed), aad);
}
