/**
 * Login throttling, kept in the database so every instance sees the same counts, in fixed 15-minute windows. Before a
 * password is checked, a login takes one attempt from counters keyed only by what was typed (the identifier, with
 * the client address, and alone) and by the client address: what those answer cannot depend on whether the
 * identifier names an account, or which one, so a throttle answer never links a private address to a public handle.
 * A wrong password for an account is also counted against the account itself (with the address, and across every
 * address, with a higher ceiling so a stranger's failures cannot lock the owner out); those counters are read only
 * once the password has proved right, to refuse the login while they are used up.
 * The other guessable steps (e-mail codes, reset tokens) and the mail-sending forms have limits of their own,
 * counted the same way under their own key prefixes.
 */
import { TooManyRequests } from '../../errors.ts';
import type { Queryable } from '../../store/db.ts';
import { sha256Hex } from '../../crypto/tokens.ts';
import { clearThrottle, readThrottles, releaseThrottle, reserveThrottle } from './accounts.repo.ts';

const THROTTLE_WINDOW_SECONDS = 15 * 60;
/** Failures for one account from one client address: what stops a guesser. */
const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5;
/**
 * Failures for one account from every address together: a ceiling against guessing from many addresses, high
 * enough that one address (anyone's) cannot lock the owner out.
 */
const MAX_FAILURES_PER_ACCOUNT = 50;
/** Failures from one client address, whatever account they name. */
const MAX_FAILURES_PER_ADDRESS = 30;

export interface ThrottleKeys {
  /** The account (or the identifier as typed) and the client address together. */
  pair: string;
  account: string;
  address: string;
}

/** Keys of one attempt against an account: its id, with the client address and alone, and the address. */
export function throttleKeys(userId: string, clientIp: string): ThrottleKeys {
  const account = `user:${userId}`;
  const address = `ip:${clientIp}`;
  return { pair: `${account}|${address}`, account, address };
}

/**
 * Keys of one login by what was typed (`email:<index>` or `handle:<lower case>`), whether or not it names an
 * account: a hash of the identifier (never its text), with the client address and alone, and the address.
 */
export function identifierKeys(identifier: string, clientIp: string): ThrottleKeys {
  const account = `login:${sha256Hex(identifier)}`;
  const address = `ip:${clientIp}`;
  return { pair: `${account}|${address}`, account, address };
}

interface Counter {
  key: string;
  max: number;
  /** The length of its fixed windows; the login window when absent. */
  windowSeconds?: number;
}

/** Each counter of a login attempt with its limit, in the order they are reserved. */
function countersOf(keys: ThrottleKeys): Counter[] {
  return [
    { key: keys.pair, max: MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS },
    { key: keys.account, max: MAX_FAILURES_PER_ACCOUNT },
    { key: keys.address, max: MAX_FAILURES_PER_ADDRESS },
  ];
}

const windowStart = (now: Date, windowSeconds = THROTTLE_WINDOW_SECONDS) => new Date(now.getTime() - windowSeconds * 1000);

/** Seconds until the window of `key` ends (at least one). */
async function secondsLeft(q: Queryable, key: string, windowSeconds = THROTTLE_WINDOW_SECONDS): Promise<number> {
  const [row] = await readThrottles(q, [key]);
  const ends = row ? new Date(row.window_started_at).getTime() + windowSeconds * 1000 : Date.now();
  return Math.max(1, (ends - Date.now()) / 1000);
}

/**
 * Reserves `counters` one by one before the attempt is evaluated: each reservation is one statement that never
 * passes its limit, so parallel attempts get no more than the limit between them. When one has nothing left, the
 * ones already taken are given back and the answer is 429 with `message(minutes to wait)`.
 */
async function reserveAll(q: Queryable, counters: readonly Counter[], message: (minutes: number) => string): Promise<void> {
  const now = new Date();
  const taken: string[] = [];
  for (const { key, max, windowSeconds } of counters) {
    if ((await reserveThrottle(q, key, max, now, windowStart(now, windowSeconds))) === undefined) {
      for (const done of taken) await releaseThrottle(q, done);
      const wait = await secondsLeft(q, key, windowSeconds);
      throw new TooManyRequests(message(Math.ceil(wait / 60)), wait);
    }
    taken.push(key);
  }
}

/**
 * Takes one attempt from every counter of `keys` before a password is checked; refuses with 429 and Retry-After
 * when one is used up. A wrong password keeps the attempt counted; a right one calls `loginSucceeded`.
 */
export async function reserveLoginAttempt(q: Queryable, keys: ThrottleKeys): Promise<void> {
  await reserveAll(q, countersOf(keys), loginThrottled);
}

const loginThrottled = (m: number) => `too many failed logins: wait ${m} minute(s) before trying again, or reset your password`;

/**
 * Counts a wrong password against the account itself (with this address, and across addresses). Nothing is refused
 * here: the caller answers as for any wrong password, and these counts are read only by `assertAccountOpen`.
 */
export async function countAccountFailure(q: Queryable, userId: string, clientIp: string): Promise<void> {
  const keys = throttleKeys(userId, clientIp);
  const now = new Date();
  await reserveThrottle(q, keys.pair, MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, now, windowStart(now));
  await reserveThrottle(q, keys.account, MAX_FAILURES_PER_ACCOUNT, now, windowStart(now));
}

/**
 * After a right password: refuses the login with 429 while the account's own failures are used up, from this
 * address or from all of them, however it was named (handle or e-mail). Only someone who knows the password sees
 * this answer, so it links nothing. The attempts reserved under `typed` are given back: it was not a wrong guess.
 */
export async function assertAccountOpen(q: Queryable, userId: string, clientIp: string, typed: ThrottleKeys): Promise<void> {
  const keys = throttleKeys(userId, clientIp);
  const limits = new Map([
    [keys.pair, MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS],
    [keys.account, MAX_FAILURES_PER_ACCOUNT],
  ]);
  const started = windowStart(new Date()).getTime();
  for (const row of await readThrottles(q, [...limits.keys()])) {
    if (new Date(row.window_started_at).getTime() < started || row.failures < limits.get(row.key)!) continue;
    for (const key of [typed.pair, typed.account, typed.address]) await releaseThrottle(q, key);
    const wait = await secondsLeft(q, row.key);
    throw new TooManyRequests(loginThrottled(Math.ceil(wait / 60)), wait);
  }
}

/**
 * A successful login clears the failures of its identifier and of its account from its address, and gives back its
 * attempt of the others: the failures other addresses made against the account stay counted.
 */
export async function loginSucceeded(q: Queryable, keys: ThrottleKeys, userId?: string): Promise<void> {
  await clearThrottle(q, userId === undefined ? [keys.pair] : [keys.pair, `${throttleKeys(userId, '').account}|${keys.address}`]);
  await releaseThrottle(q, keys.account);
  await releaseThrottle(q, keys.address);
}

/**
 * Forgets every login failure counted against the account, from every address, and against the identifiers that
 * name it now (a password reset proves who it is).
 */
export async function clearAccountFailures(q: Queryable, userId: string, identifiers: readonly string[]): Promise<void> {
  const { account } = throttleKeys(userId, '');
  await clearThrottle(q, [account], `${account}|`);
  for (const identifier of identifiers) {
    const typed = identifierKeys(identifier, '');
    await clearThrottle(q, [typed.account], `${typed.account}|`);
  }
}

/** A limit on an action per subject (an account or a client address), counted in the same fixed windows. */
export interface Limit {
  /** Key prefix in login_throttle; never the same as a login key's (`user:`, `login:`, `ip:`). */
  name: string;
  max: number;
  /** What the person is told, before how long to wait. */
  message: string;
  /** The length of its fixed windows; the login window (15 minutes) when absent. */
  windowSeconds?: number;
}

/** Reset mail requests per client address, whoever they name: the form must not become a way to flood mailboxes. */
export const FORGOT_PER_ADDRESS: Limit = { name: 'forgot-ip', max: 30, message: 'too many password reset requests from your address' };
/** Wrong e-mail codes per account, across codes: resending must not give a guesser fresh attempts forever. */
export const CODES_PER_ACCOUNT: Limit = { name: 'otp-user', max: 10, message: 'too many wrong codes for this account' };
/** Wrong e-mail codes per client address, across accounts. */
export const CODES_PER_ADDRESS: Limit = { name: 'otp-ip', max: 30, message: 'too many wrong codes from your address' };
/** Unknown or spent reset tokens per client address. */
export const RESET_TOKENS_PER_ADDRESS: Limit = { name: 'reset-ip', max: 30, message: 'too many invalid reset tokens from your address' };

/**
 * Registrations per client address in an hour (REGISTRATIONS_PER_ADDRESS): each one mails a code to the address it
 * names, so registering must not become a way to mail strangers in bulk.
 */
export function registrationsPerAddress(max: number): Limit {
  return { name: 'register-ip', max, windowSeconds: 60 * 60, message: 'too many registrations from your address' };
}

/**
 * Mail per account in an hour, of every kind its actions cause (codes, the notice of an e-mail change, reset
 * tokens and the notice of a reset): a cap however the cooldowns are combined, and whichever addresses it names.
 */
export const MAIL_PER_ACCOUNT: Limit = {
  name: 'mail-user',
  max: 10,
  windowSeconds: 60 * 60,
  message: 'too many e-mails for this account in the last hour',
};

/**
 * Sign-in challenges (key pair, passkey) handed to anonymous callers per client address: each sign-in attempt needs
 * one, so this bounds the attempts too, and keeps the table of challenges from being flooded.
 */
export const CHALLENGES_PER_ADDRESS: Limit = { name: 'challenge-ip', max: 120, message: 'too many sign-in challenges from your address' };

const keyOf = (limit: Limit, subject: string) => `${limit.name}:${subject}`;

/**
 * Takes `uses` of `limit` for `subject` (all or none) before the action is evaluated; 429 with Retry-After when
 * they are not left.
 */
export async function reserveUnderLimit(q: Queryable, limit: Limit, subject: string, uses = 1): Promise<void> {
  const counter = { key: keyOf(limit, subject), max: limit.max, windowSeconds: limit.windowSeconds };
  await reserveAll(
    q,
    Array.from({ length: uses }, () => counter),
    (m) => `${limit.message}: wait ${m} minute(s) before trying again`,
  );
}

/** `reserveUnderLimit` for an action that goes ahead quietly without the mail: false when the uses are not left. */
export async function tryReserveUnderLimit(q: Queryable, limit: Limit, subject: string, uses = 1): Promise<boolean> {
  try {
    await reserveUnderLimit(q, limit, subject, uses);
    return true;
  } catch (err) {
    if (err instanceof TooManyRequests) return false;
    throw err;
  }
}

/** Gives back a use reserved with `reserveUnderLimit` (the attempt was not a failure). */
export async function releaseLimit(q: Queryable, limit: Limit, subject: string): Promise<void> {
  await releaseThrottle(q, keyOf(limit, subject));
}
