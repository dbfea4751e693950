import { recordAudit } from '../../audit/audit.ts';
import type { Handler } from '../../deps.ts';
import { PasskeyNotFound } from '../../errors.ts';
import { userCaller } from '../accounts/sessions.ts';
import { findPasskey } from './passkeys.repo.ts';

/** Removes a passkey (a step-up operation): it signs in no more. */
export const deletePasskey: Handler = async ({ caller, params, clientIp }, deps) => {
  const user = userCaller(caller);
  return deps.db.transaction(async (trx) => {
    const found = await findPasskey(trx, user.userId, params.passkey_id);
    if (!found) throw new PasskeyNotFound('you have no passkey with this id');
    await trx('passkeys').where({ id: found.id }).delete();
    await recordAudit(trx, {
      action: 'passkey.removed',
      actor: `user:${user.userId}`,
      subject: `user:${user.userId}`,
      clientIp,
      data: { passkey_id: found.id },
    });
    return { passkey_id: found.id };
  });
};
