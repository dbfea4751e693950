/** The profile's picture: one row per profile, its image sealed under the profile's key with `avatars:<id>`. */
import type { Knex } from 'knex';
import { openForProfile, sealForProfile, type OpenProfile } from '../../disclosure/container.ts';
import type { Queryable } from '../../store/db.ts';

export interface AvatarRow {
  profile_id: string;
  content_type: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  updated_at: Date;
}

const avatarAad = (profileId: string) => `avatars:${profileId}`;

/** Stores (or replaces) the profile's picture, sealed. */
export async function upsertAvatar(
  trx: Knex.Transaction,
  profile: OpenProfile,
  image: Buffer,
  meta: Omit<AvatarRow, 'profile_id' | 'updated_at'>,
): Promise<void> {
  await trx('avatars')
    .insert({ profile_id: profile.id, image: sealForProfile(profile, image, avatarAad(profile.id)), ...meta, updated_at: new Date() })
    .onConflict('profile_id')
    .merge();
}

/** Facts about the stored picture, without opening it. */
export async function findAvatarMeta(q: Queryable, profileId: string): Promise<AvatarRow | undefined> {
  return (await q('avatars')
    .select('profile_id', 'content_type', 'sha256', 'bytes', 'width', 'height', 'updated_at')
    .where({ profile_id: profileId })
    .first()) as AvatarRow | undefined;
}

/** The stored picture, opened, with its facts; undefined when there is none. */
export async function readAvatarImage(q: Queryable, profile: OpenProfile): Promise<{ meta: AvatarRow; image: Buffer } | undefined> {
  const row = (await q('avatars').where({ profile_id: profile.id }).first()) as (AvatarRow & { image: Uint8Array }) | undefined;
  if (!row) return undefined;
  const { image, ...meta } = row;
  return { meta, image: openForProfile(profile, image, avatarAad(profile.id)) };
}

/** Deletes the picture; false when there was none. */
export async function deleteAvatar(trx: Knex.Transaction, profileId: string): Promise<boolean> {
  return (await trx('avatars').where({ profile_id: profileId }).delete()) > 0;
}
