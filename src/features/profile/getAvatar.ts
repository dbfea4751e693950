/** GET /api/v1/profiles/{handle}/avatar: the picture itself. */
import { Reply, type Handler } from '../../deps.ts';
import { getAvatarImage } from './profile.ts';

export const getAvatar: Handler = async (input, deps) => {
  const { meta, image, isOwner } = await getAvatarImage(deps, input.caller, input.params.handle);
  return new Reply(image, {
    type: meta.content_type,
    headers: {
      ETag: `"${meta.sha256}"`,
      // The owner's view may show a picture the public may not see: never let a shared cache keep it.
      'Cache-Control': isOwner ? 'private, no-store' : 'public, max-age=60',
      'Content-Disposition': 'inline',
    },
  });
};
