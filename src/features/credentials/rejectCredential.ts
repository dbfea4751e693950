/** POST /api/v1/profile/credentials/{credential_id}/reject: discards a pending extraction and its image. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as credentials from './credentials.ts';

export const rejectCredential: Handler = (input, deps) =>
  credentials.rejectCredential(deps, userCaller(input.caller), input.params.credential_id!, input.clientIp);
