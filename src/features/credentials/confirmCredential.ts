/** POST /api/v1/profile/credentials/{credential_id}/confirm: `{fields?, corrections?}` → the fields now in the profile. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import * as credentials from './credentials.ts';

export const confirmCredential: Handler = (input, deps) =>
  credentials.confirmCredential(
    deps,
    userCaller(input.caller),
    input.params.credential_id!,
    {
      fields: input.body.fields as string[] | undefined,
      corrections: input.body.corrections as Record<string, unknown> | undefined,
    },
    input.clientIp,
  );
