/** GET /api/v1/profile/credentials/{credential_id}/image: the kept photo, to its owner only. */
import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as credentials from './credentials.ts';

export const getCredentialImage: Handler = async (input, deps) => {
  const image = await credentials.credentialImage(deps, userCaller(input.caller), input.params.credential_id!);
  return new Reply(image.data, { type: image.contentType, headers: { 'Cache-Control': 'private, no-store' } });
};
