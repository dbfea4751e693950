import { recordAudit } from '../../audit/audit.ts';
import type { Handler } from '../../deps.ts';
import { PasskeyNotFound } from '../../errors.ts';
import { userCaller } from '../accounts/sessions.ts';
import { findPasskey, type PasskeyRow } from './passkeys.repo.ts';
import { passkeyView } from './webauthn.ts';

export const renamePasskey: Handler = async ({ caller, params, body, clientIp }, deps) => {
  const user = userCaller(caller);
  const name = String(body.name).trim();
  return deps.db.transaction(async (trx) => {
    const found = await findPasskey(trx, user.userId, params.passkey_id);
    if (!found) throw new PasskeyNotFound('you have no passkey with this id');
    const [row] = (await trx('passkeys').where({ id: found.id }).update({ name }).returning('*')) as PasskeyRow[];
    await recordAudit(trx, {
      action: 'passkey.renamed',
      actor: `user:${user.userId}`,
      subject: `user:${user.userId}`,
      clientIp,
      data: { passkey_id: found.id },
    });
    return { passkey: passkeyView(row) };
  });
};
