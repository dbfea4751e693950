/**
 * Resetting a forgotten password with an e-mailed single-use token: asked for by address (the same answer whether
 * or not an account uses it), spent once, and every session of the account ends. The mails go through the outbox
 * in the transaction of the change that causes them.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import { hashPassword, passwordProblems } from '../../crypto/passwords.ts';
import { hashToken, newToken } from '../../crypto/tokens.ts';
import { InvalidResetToken, ResetTokenExpired, WeakPassword } from '../../errors.ts';
import type { AppDeps } from '../../deps.ts';
import { withTransaction } from '../../store/db.ts';
import { readUserFields } from '../../profiles/profile.repo.ts';
import { deleteProviderSessions } from '../../oidc/grants.repo.ts';
import {
  findPasswordResetByHash,
  findUserByEmailIndex,
  getUserById,
  insertPasswordReset,
  latestPasswordReset,
  revokeSessions,
  spendPasswordResets,
  updateUser,
} from './accounts.repo.ts';
import { currentEmail, emailIndex, loginIdentifier } from './email.ts';
import {
  FORGOT_PER_ADDRESS,
  MAIL_PER_ACCOUNT,
  RESET_TOKENS_PER_ADDRESS,
  clearAccountFailures,
  releaseLimit,
  reserveUnderLimit,
  tryReserveUnderLimit,
} from './throttle.ts';

export const RESET_TOKEN_SECONDS = 60 * 60;
/** At most one reset mail per account in this time, whoever asks: the form must not become a way to flood a mailbox. */
const RESET_MAIL_COOLDOWN_SECONDS = 60;

const FORGOT_HINT = 'ask for a new one with POST /api/v1/auth/forgot-password';

/** Mails a reset token when an account uses `email`; the caller answers the same either way. */
export async function requestPasswordReset(deps: AppDeps, email: string, clientIp: string): Promise<void> {
  // Counted per address whatever the address asked for, so the limit says nothing about who has an account.
  await reserveUnderLimit(deps.db, FORGOT_PER_ADDRESS, clientIp);
  const user = await findUserByEmailIndex(deps.db, emailIndex(deps.keyring, email));
  if (!user) return;
  const latest = await latestPasswordReset(deps.db, user.id);
  if (latest && new Date(latest.created_at).getTime() > Date.now() - RESET_MAIL_COOLDOWN_SECONDS * 1000) return;
  await withTransaction(deps.db, async (trx) => {
    // Past the account's hourly mail cap nothing is sent, and the answer stays the same.
    if (!(await tryReserveUnderLimit(trx, MAIL_PER_ACCOUNT, user.id))) return;
    const token = newToken();
    const id = randomUUID();
    await insertPasswordReset(trx, {
      id,
      user_id: user.id,
      token_hash: hashToken(token),
      expires_at: new Date(Date.now() + RESET_TOKEN_SECONDS * 1000),
      client_ip: clientIp,
      created_at: new Date(),
    });
    await deps.outbox.enqueueMail(
      trx,
      {
        to: await currentEmail(deps, trx, user.id),
        subject: 'Reset your Ringfence password',
        text:
          `Someone (we hope you) asked to reset the password of your Ringfence account.\n\n` +
          `Your reset token: ${token}\n\n` +
          `Send it with your new password to POST ${deps.config.baseUrl}/api/v1/auth/reset-password as ` +
          `{"token": "...", "new_password": "..."}. It works once, within ${RESET_TOKEN_SECONDS / 60} minutes.\n` +
          `If you did not ask for this, ignore this message: your password stays as it is.\n`,
      },
      `password-reset:${id}`,
    );
    await recordAudit(trx, { action: 'password.reset_requested', actor: 'anonymous', subject: `user:${user.id}`, clientIp });
  });
}

/** Sets a new password with an e-mailed token, once; every session of the account ends. */
export async function resetPassword(deps: AppDeps, token: string, newPassword: string, clientIp: string): Promise<{ sessions_ended: number }> {
  await reserveUnderLimit(deps.db, RESET_TOKENS_PER_ADDRESS, clientIp);
  const reset = await findPasswordResetByHash(deps.db, hashToken(token));
  if (!reset || reset.used_at) {
    // The attempt stays counted: unknown and spent tokens are what this limit is for.
    throw new InvalidResetToken(`this reset token is not valid or was already used: ${FORGOT_HINT}`);
  }
  await releaseLimit(deps.db, RESET_TOKENS_PER_ADDRESS, clientIp);
  if (new Date(reset.expires_at).getTime() <= Date.now()) {
    throw new ResetTokenExpired(`this reset token has expired: ${FORGOT_HINT}`);
  }
  const user = await getUserById(deps.db, reset.user_id);
  const own = await readUserFields(deps.db, deps.keyring, user.id, ['email', 'name']);
  const problems = passwordProblems(newPassword, [own.email as string, user.handle, own.name as string]);
  if (problems.length > 0) {
    // The token is not spent: the person may try again with a better password.
    throw new WeakPassword(`new_password ${problems.join('; ')}`, {
      details: problems.map((message) => ({ path: 'new_password', message })),
    });
  }
  const passwordHash = await hashPassword(newPassword);
  return withTransaction(deps.db, async (trx) => {
    if (!(await spendPasswordResets(trx, user.id, reset.id, new Date()))) {
      throw new InvalidResetToken(`this reset token is not valid or was already used: ${FORGOT_HINT}`);
    }
    await updateUser(trx, user.id, { password_hash: passwordHash, password_changed_at: new Date() });
    const ended = await revokeSessions(trx, { userId: user.id }, 'password_reset');
    await deleteProviderSessions(trx, user.id);
    await clearAccountFailures(trx, user.id, [loginIdentifier(deps, { email: own.email as string }), loginIdentifier(deps, { handle: user.handle })]);
    await recordAudit(trx, { action: 'password.reset', actor: 'anonymous', subject: `user:${user.id}`, clientIp, data: { sessions_ended: ended } });
    // The reset goes ahead past the account's hourly mail cap; only its notice is left out.
    if (await tryReserveUnderLimit(trx, MAIL_PER_ACCOUNT, user.id))
      await deps.outbox.enqueueMail(
        trx,
        {
          to: own.email as string,
          subject: 'Your Ringfence password was changed',
          text:
            'The password of your Ringfence account was just reset, and every session was signed out.\n' +
            'If this was not you, reset it again at once with POST /api/v1/auth/forgot-password.\n',
        },
        `password-reset-done:${reset.id}`,
      );
    return { sessions_ended: ended };
  });
}
