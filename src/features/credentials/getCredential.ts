/** GET /api/v1/profile/credentials/{credential_id}: one credential, its extraction and checks. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as credentials from './credentials.ts';

export const getCredential: Handler = (input, deps) => credentials.showCredential(deps, userCaller(input.caller), input.params.credential_id!);
