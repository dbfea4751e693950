/** POST /api/v1/profile/add-credential (seed API 2): multipart `credential_type` and `credential_image`. */
import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as credentials from './credentials.ts';

export const addCredential: Handler = async (input, deps) => {
  const result = await credentials.addCredential(
    deps,
    userCaller(input.caller),
    { type: input.body.credential_type, image: input.files.credential_image },
    input.clientIp,
  );
  return new Reply({ status: 'success', ...result }, { status: 201 });
};
