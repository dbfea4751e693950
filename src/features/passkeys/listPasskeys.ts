import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { listPasskeyRows } from './passkeys.repo.ts';
import { passkeyView } from './webauthn.ts';

export const listPasskeys: Handler = async ({ caller }, deps) => ({
  passkeys: (await listPasskeyRows(deps.db, userCaller(caller).userId)).map(passkeyView),
});
