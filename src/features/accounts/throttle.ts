/**
 * Login throttling, kept in the database so every instance sees the same counts: per account (or, for an unknown
 * identifier, per identifier, so both cases answer alike) and per client address, in fixed 15-minute windows.
 * The other guessable steps (e-mail codes, reset tokens) and the mail-sending form (forgot-password) have limits of
 * their own, counted the same way under their own key prefixes.
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

/** A limit on an action per subject (an account or a client address), counted in the same fixed windows. */
export interface Limit {
  /** Key prefix in login_throttle; never the same as a login key's (`user:`, `login:`, `ip:`). */
  name: string;
  max: number;
  /** What the person is told, before how long to wait. */
  message: string;
}

/** Reset mail requests per client address, whoever they name: the form must not become a way to flood mailboxes. */
export const FORGOT_PER_ADDRESS: Limit = { name: 'forgot-ip', max: 30, message: 'too many password reset requests from your address' };
/** Wrong e-mail codes per account, across codes: resending must not give a guesser fresh attempts forever. */
export const CODES_PER_ACCOUNT: Limit = { name: 'otp-user', max: 10, message: 'too many wrong codes for this account' };
/** Wrong e-mail codes per client address, across accounts. */
export const CODES_PER_ADDRESS: Limit = { name: 'otp-ip', max: 30, message: 'too many wrong codes from your address' };
/** Unknown or spent reset tokens per client address. */
export const RESET_TOKENS_PER_ADDRESS: Limit = { name: 'reset-ip', max: 30, message: 'too many invalid reset tokens from your address' };

const keyOf = (limit: Limit, subject: string) => `${limit.name}:${subject}`;

/** Refuses with 429 and Retry-After while `subject` has used up `limit` in the current window. */
export async function assertUnderLimit(q: Queryable, limit: Limit, subject: string): Promise<void> {
  const [row] = await readThrottles(q, [keyOf(limit, subject)]);
  if (!row) return;
  const ends = new Date(row.window_started_at).getTime() + THROTTLE_WINDOW_SECONDS * 1000;
  const wait = (ends - Date.now()) / 1000;
  if (wait > 0 && row.failures >= limit.max) {
    throw new TooManyRequests(`${limit.message}: wait ${Math.ceil(wait / 60)} minute(s) before trying again`, wait);
  }
}

/** Counts one use (or failure) of `limit` against `subject`. */
export async function countAgainst(q: Queryable, limit: Limit, subject: string): Promise<void> {
  const now = new Date();
  await addThrottleFailure(q, keyOf(limit, subject), now, new Date(now.getTime() - THROTTLE_WINDOW_SECONDS * 1000));
}
