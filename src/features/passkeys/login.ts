/** A login by a strong factor (passkey, key pair): a new session family, authenticated now by that factor. */
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps } from '../../deps.ts';
import { issueTokens, type AuthMethod } from '../accounts/sessions.ts';

export async function loginBy(deps: AppDeps, userId: string, method: Exclude<AuthMethod, 'password'>, clientIp: string) {
  return deps.db.transaction(async (trx) => {
    const tokens = await issueTokens(trx, userId, clientIp, undefined, { at: new Date(), method });
    await recordAudit(trx, {
      action: 'session.login',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { session_id: tokens.sessionId, by: method },
    });
    return { user_id: userId, token: tokens.token, refresh_token: tokens.refresh_token, expires_in: tokens.expires_in };
  });
}
