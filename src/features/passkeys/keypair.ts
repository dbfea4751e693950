/**
 * Key-pair sign-in: the person signs a server challenge with the private key of the public key they registered
 * (RSA ≥ 2048, EC P-256/P-384, Ed25519). The text signed names the instance's origin and the purpose, so a
 * signature made for one instance, or for a step-up, never signs in elsewhere; the challenge is single-use and
 * short-lived (challenges.ts). The private key never leaves the person.
 */
import { constants, createPublicKey, verify } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps } from '../../deps.ts';
import { InvalidSignature } from '../../errors.ts';
import { emailIndex } from '../accounts/email.ts';
import { findUserByEmailIndex, findUserByHandle, getUserById, type UserRow } from '../accounts/accounts.repo.ts';
import { issueChallenge, spendChallenge, type ChallengePurpose } from './challenges.ts';
import { relyingParty } from './webauthn.ts';

type KeyPurpose = Extract<ChallengePurpose, 'key-login' | 'key-step-up'>;

/** The exact text to sign (UTF-8): what it is for, where, and the challenge. */
function keyChallengeMessage(origin: string, purpose: KeyPurpose, challenge: string): string {
  return `Ringfence key-pair authentication\norigin: ${origin}\npurpose: ${purpose}\nchallenge: ${challenge}\n`;
}

/** A challenge for `login` (anyone: an unknown account gets one too, so the answer says nothing) or a step-up. */
export async function keyChallenge(deps: AppDeps, target: { userId: string } | { email: string } | { handle: string }) {
  const { origin } = relyingParty(deps.config);
  let user: UserRow | undefined;
  let purpose: KeyPurpose = 'key-login';
  if ('userId' in target) {
    user = await getUserById(deps.db, target.userId);
    purpose = 'key-step-up';
  } else {
    user =
      'email' in target
        ? await findUserByEmailIndex(deps.db, emailIndex(deps.keyring, target.email))
        : await findUserByHandle(deps.db, target.handle);
  }
  const issued = await issueChallenge(deps.db, purpose, origin, user?.id ?? null);
  return {
    challenge: issued.challenge,
    purpose,
    message: keyChallengeMessage(origin, purpose, issued.challenge),
    expires_at: issued.expiresAt.toISOString(),
  };
}

/** Whether `signature` (base64 or base64url) is `pem`'s signature of `message`, in the usual encodings of its type. */
function verifyKeySignature(pem: string, message: string, signature: string): boolean {
  const key = createPublicKey(pem);
  const data = Buffer.from(message, 'utf8');
  const sig = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (sig.length === 0 || sig.length > 1024) return false;
  const attempts: (() => boolean)[] = [];
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      attempts.push(() => verify(null, data, key, sig));
      break;
    case 'ec': {
      const hash = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
      attempts.push(() => verify(hash, data, { key, dsaEncoding: 'der' }, sig));
      attempts.push(() => verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig));
      break;
    }
    case 'rsa':
      attempts.push(() => verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, sig));
      attempts.push(() => verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig));
      break;
    default:
      return false;
  }
  return attempts.some((attempt) => {
    try {
      return attempt();
    } catch {
      return false;
    }
  });
}

/**
 * Checks an answer to a key challenge: the challenge is spent first (a wrong signature spends it too), then the
 * signature is checked against the registered public key of the person it was issued for. Returns that person.
 */
export async function verifyKeyAnswer(
  deps: AppDeps,
  purpose: KeyPurpose,
  answer: { challenge: string; signature: string },
  clientIp: string,
): Promise<UserRow> {
  const { origin } = relyingParty(deps.config);
  const { userId } = await spendChallenge(deps.db, purpose, origin, answer.challenge);
  const user = userId ? await getUserById(deps.db, userId) : undefined;
  const ok = user?.public_key_pem
    ? verifyKeySignature(user.public_key_pem, keyChallengeMessage(origin, purpose, answer.challenge), answer.signature)
    : false;
  if (!ok || !user) {
    await recordAudit(deps.db, {
      action: 'key.signature_refused',
      actor: 'anonymous',
      subject: user ? `user:${user.id}` : undefined,
      clientIp,
      data: { purpose, reason: user ? (user.public_key_pem ? 'wrong_signature' : 'no_public_key') : 'unknown_account' },
    });
    throw new InvalidSignature('the signature does not verify with the public key of this account: sign the message given with the challenge');
  }
  return user;
}
