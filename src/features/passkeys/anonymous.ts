/** What the operations that take a session optionally (sign-in challenges) ask of an anonymous caller. */
import type { RequestInput } from '../../deps.ts';
import { InvalidToken } from '../../errors.ts';
import { CHALLENGES_PER_ADDRESS, reserveUnderLimit } from '../accounts/throttle.ts';
import type { AppDeps } from '../../deps.ts';

/**
 * An anonymous caller of a sign-in challenge: an Authorization header that named no session (malformed, or of
 * another scheme) is refused rather than ignored, and the challenge counts against the caller's address.
 */
export async function admitAnonymous(input: Pick<RequestInput, 'headers' | 'clientIp'>, deps: AppDeps): Promise<void> {
  if (input.headers.authorization !== undefined) {
    throw new InvalidToken('the Authorization header is not a session token: send `Authorization: Bearer <token>`, or none to sign in');
  }
  await reserveUnderLimit(deps.db, CHALLENGES_PER_ADDRESS, input.clientIp);
}
