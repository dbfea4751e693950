/**
 * Login throttling, kept in the database so every instance sees the same counts: per account (or, for an unknown
 * identifier, per identifier, so both cases answer alike) and per client address, in fixed 15-minute windows.
 */
import { TooManyRequests } from '../../errors.ts';
import type { Queryable } from '../../store/db.ts';
import { sha256Hex } from '../../crypto/tokens.ts';
import { addThrottleFailure, clearThrottle, readThrottles } from './accounts.repo.ts';

export const THROTTLE_WINDOW_SECONDS = 15 * 60;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 30;

export interface ThrottleKeys {
  account: string;
  address: string;
}

/** Keys of one login attempt: the account when it exists, else a hash of what was typed (never the text). */
export function throttleKeys(userId: string | undefined, identifier: string, clientIp: string): ThrottleKeys {
  return {
    account: userId ? `user:${userId}` : `login:${sha256Hex(identifier.toLowerCase())}`,
    address: `ip:${clientIp}`,
  };
}

function limitOf(key: string): number {
  return key.startsWith('ip:') ? MAX_FAILURES_PER_ADDRESS : MAX_FAILURES_PER_ACCOUNT;
}

/** Refuses with 429 and Retry-After while either key has used up its failures in the current window. */
export async function assertLoginAllowed(q: Queryable, keys: ThrottleKeys): Promise<void> {
  const now = Date.now();
  let wait = 0;
  for (const row of await readThrottles(q, [keys.account, keys.address])) {
    const ends = new Date(row.window_started_at).getTime() + THROTTLE_WINDOW_SECONDS * 1000;
    if (ends > now && row.failures >= limitOf(row.key)) wait = Math.max(wait, (ends - now) / 1000);
  }
  if (wait > 0) {
    throw new TooManyRequests(`too many failed logins: wait ${Math.ceil(wait / 60)} minute(s) before trying again, or reset your password`, wait);
  }
}

/** Counts one failure against both keys. */
export async function recordLoginFailure(q: Queryable, keys: ThrottleKeys): Promise<void> {
  const now = new Date();
  const windowStart = new Date(now.getTime() - THROTTLE_WINDOW_SECONDS * 1000);
  await addThrottleFailure(q, keys.account, now, windowStart);
  await addThrottleFailure(q, keys.address, now, windowStart);
}

/** A successful login clears its account's failures; the address keeps its count. */
export async function clearLoginFailures(q: Queryable, keys: ThrottleKeys): Promise<void> {
  await clearThrottle(q, keys.account);
}
