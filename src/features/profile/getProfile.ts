/** GET /api/v1/profile: the owner's whole profile, with its version as the ETag for If-Match on update-info. */
import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { profileEtag } from './etag.ts';
import { getOwnProfile } from './profile.ts';

export const getProfile: Handler = async (input, deps) => {
  const profile = await getOwnProfile(deps, userCaller(input.caller).userId);
  return new Reply({ status: 'success', ...profile }, { headers: { ETag: profileEtag(profile.version) } });
};
