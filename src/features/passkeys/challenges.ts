/**
 * Challenges of the sign-in ceremonies (passkey registration and sign-in, key-pair sign-in and step-up): random,
 * short-lived, single-use, bound to a purpose, the instance's origin and (when known) the person; stored only as
 * their SHA-256. Spending one is one statement, so two requests racing with one challenge cannot both win.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hashToken } from '../../crypto/tokens.ts';
import { ChallengeExpired, ChallengeUnknown, ChallengeUsed } from '../../errors.ts';
import type { Queryable } from '../../store/db.ts';

export type ChallengePurpose = 'passkey-register' | 'passkey-authenticate' | 'key-login' | 'key-step-up';

/** How long a challenge may be answered. */
const CHALLENGE_SECONDS = 120;

export interface IssuedChallenge {
  challenge: string;
  expiresAt: Date;
}

/** A fresh challenge (base64url, 256 bits; or one a WebAuthn library drew) for `purpose`, stored by its hash. */
export async function issueChallenge(
  q: Queryable,
  purpose: ChallengePurpose,
  origin: string,
  userId: string | null,
  challenge = randomBytes(32).toString('base64url'),
): Promise<IssuedChallenge> {
  const expiresAt = new Date(Date.now() + CHALLENGE_SECONDS * 1000);
  await q('auth_challenges').insert({
    id: randomUUID(),
    purpose,
    challenge_hash: hashToken(challenge),
    user_id: userId,
    origin,
    expires_at: expiresAt,
  });
  return { challenge, expiresAt };
}

/**
 * Spends a challenge: refused when it was never issued for this purpose and origin, was already spent, or has
 * expired. Returns the person it was issued for (null when issued to an anonymous caller).
 */
export async function spendChallenge(q: Queryable, purpose: ChallengePurpose, origin: string, challenge: string): Promise<{ userId: string | null }> {
  const hash = hashToken(challenge);
  const [spent] = (await q('auth_challenges')
    .where({ challenge_hash: hash, purpose, origin })
    .whereNull('used_at')
    .where('expires_at', '>', new Date())
    .update({ used_at: new Date() })
    .returning(['user_id'])) as { user_id: string | null }[];
  if (spent) return { userId: spent.user_id };
  const row = (await q('auth_challenges').where({ challenge_hash: hash, purpose, origin }).first()) as
    | { used_at: Date | null; expires_at: Date }
    | undefined;
  if (!row) throw new ChallengeUnknown('this challenge was not issued here for this purpose: ask for a new one');
  if (row.used_at) throw new ChallengeUsed('this challenge was already used: each one signs in once; ask for a new one');
  throw new ChallengeExpired(`this challenge has expired (they last ${CHALLENGE_SECONDS} seconds): ask for a new one`);
}

/** Deletes challenges expired for a while (the service's sweep). */
export async function sweepChallenges(q: Queryable): Promise<number> {
  return q('auth_challenges')
    .where('expires_at', '<', new Date(Date.now() - 24 * 3600 * 1000))
    .delete();
}
