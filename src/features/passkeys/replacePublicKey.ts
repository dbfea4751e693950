import { recordAudit } from '../../audit/audit.ts';
import { PemRejected, parsePublicKeyPem } from '../../crypto/pki.ts';
import type { Handler } from '../../deps.ts';
import { InvalidRequest, PrivateKeyRefused } from '../../errors.ts';
import { updateUser } from '../accounts/accounts.repo.ts';
import { userCaller } from '../accounts/sessions.ts';

/**
 * Rotates the registered public key (a step-up operation: after signing a challenge with the old key, a passkey,
 * or a password re-check). Exports are encrypted to the new key from now on.
 */
export const replacePublicKey: Handler = async ({ caller, body, clientIp }, deps) => {
  const user = userCaller(caller);
  let key: ReturnType<typeof parsePublicKeyPem>;
  try {
    key = parsePublicKeyPem(String(body.public_key));
  } catch (err) {
    if (!(err instanceof PemRejected)) throw err;
    if (err.reason === 'private_key') {
      throw new PrivateKeyRefused(`public_key: ${err.message}`, { details: [{ path: 'public_key', message: 'is a private key: never send it' }] });
    }
    throw InvalidRequest.validation([{ path: 'public_key', message: err.message }]);
  }
  await deps.db.transaction(async (trx) => {
    await updateUser(trx, user.userId, { public_key_pem: key.pem, public_key_type: key.type, public_key_fingerprint: key.fingerprint });
    await recordAudit(trx, {
      action: 'public_key.replaced',
      actor: `user:${user.userId}`,
      subject: `user:${user.userId}`,
      clientIp,
      data: { public_key_fingerprint: key.fingerprint },
    });
  });
  return { public_key: { type: key.type, fingerprint: key.fingerprint, pem: key.pem } };
};
