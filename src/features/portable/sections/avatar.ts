/** The profile picture (already re-encoded without metadata when it was uploaded). */
import { createHash } from 'node:crypto';
import { fieldCatalogue } from '../../../profiles/catalogue.ts';
import { writeFields } from '../../../profiles/profile.repo.ts';
import { readAvatarImage, upsertAvatar } from '../../profile/avatars.repo.ts';
import type { PortableSection } from './section.ts';

interface ExportedAvatar {
  content_type: string;
  width: number;
  height: number;
  sha256: string;
  image: string;
}

const TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

export const avatarSection: PortableSection = {
  name: 'avatar',
  version: 1,
  async export(trx, { profile }) {
    const found = await readAvatarImage(trx, profile);
    if (!found) return null;
    const { meta, image } = found;
    return { content_type: meta.content_type, width: meta.width, height: meta.height, sha256: meta.sha256, image: image.toString('base64') };
  },
  async import(trx, ctx, data) {
    if (data === null) return { imported: 0 };
    const a = data as ExportedAvatar;
    const image = Buffer.from(a.image, 'base64');
    const sha256 = createHash('sha256').update(image).digest('hex');
    if (!TYPES.has(a.content_type) || sha256 !== a.sha256) return { imported: 0, skipped: ['avatar: not an image this instance keeps'] };
    await upsertAvatar(trx, ctx.profile, image, { content_type: a.content_type, sha256, bytes: image.length, width: a.width, height: a.height });
    const ring = fieldCatalogue(ctx.deps).fields.get('avatar')?.ring ?? 'public';
    await writeFields(trx, ctx.profile, [
      { field: 'avatar', value: { sha256, content_type: a.content_type, width: a.width, height: a.height }, ring, provenance: 'user' },
    ]);
    return { imported: 1 };
  },
};
