/** DELETE /api/v1/profile/credentials/{credential_id}: the credential goes; values it verified become self-asserted. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as credentials from './credentials.ts';

export const deleteCredential: Handler = (input, deps) =>
  credentials.deleteCredential(deps, userCaller(input.caller), input.params.credential_id!, input.clientIp);
