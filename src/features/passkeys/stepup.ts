/** Step-up: the signed-in person proves who they are again (passkey, key pair or password), for x-step-up operations. */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import { InvalidSignature, PasskeyRefused } from '../../errors.ts';
import { checkCurrentPassword } from '../accounts/accounts.ts';
import { getUserById } from '../accounts/accounts.repo.ts';
import { recordAuthentication, type AuthMethod } from '../accounts/sessions.ts';
import { verifyKeyAnswer } from './keypair.ts';
import { verifyPasskey } from './webauthn.ts';

export type StepUpInput =
  | { method: 'password'; password: string }
  | { method: 'key_pair'; challenge: string; signature: string }
  | { method: 'passkey'; response: AuthenticationResponseJSON };

export async function stepUp(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>, input: StepUpInput, clientIp: string) {
  const method: AuthMethod = input.method;
  if (input.method === 'password') {
    await checkCurrentPassword(deps, await getUserById(deps.db, caller.userId), input.password, clientIp, 'session.step_up_failed');
  } else if (input.method === 'key_pair') {
    const user = await verifyKeyAnswer(deps, 'key-step-up', input, clientIp);
    if (user.id !== caller.userId) throw new InvalidSignature('this challenge was issued to another account: ask for a new one while signed in');
  } else {
    const passkey = await verifyPasskey(deps, input.response, clientIp);
    if (passkey.user_id !== caller.userId) throw new PasskeyRefused('this passkey belongs to another account');
  }
  const at = new Date();
  await deps.db.transaction(async (trx) => {
    await recordAuthentication(trx, caller.sessionId, method, at);
    await recordAudit(trx, {
      action: 'session.step_up',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { session_id: caller.sessionId, method },
    });
  });
  return { authenticated_at: at.toISOString(), method, valid_for_seconds: deps.config.stepUpMaxAgeSeconds };
}
