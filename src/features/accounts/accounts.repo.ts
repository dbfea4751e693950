/**
 * Users, sessions, e-mail verification codes, password resets and login throttling. Tokens and codes are looked
 * up by their hashes only; times are set and compared by the application clock.
 */
import type { Knex } from 'knex';
import { UserNotFound } from '../../errors.ts';
import { runStatement, statementsOf, type Db, type Queryable } from '../../store/db.ts';

export interface UserRow {
  id: string;
  email_index: string;
  handle: string;
  handle_lower: string;
  password_hash: string;
  password_changed_at: Date;
  email_verified_at: Date | null;
  public_key_pem: string | null;
  public_key_type: string | null;
  public_key_fingerprint: string | null;
  biometrics: Uint8Array | null;
  created_at: Date;
  updated_at: Date;
}

export type NewUser = Pick<UserRow, 'id' | 'email_index' | 'handle' | 'password_hash'> &
  Partial<Pick<UserRow, 'public_key_pem' | 'public_key_type' | 'public_key_fingerprint'>>;

/** Inserts a user; the handle is also kept lower-cased, which is what makes it unique whatever its case. */
export async function insertUser(trx: Knex.Transaction, user: NewUser): Promise<void> {
  await trx('users').insert({ ...user, handle_lower: user.handle.toLowerCase() });
}

/** The user with this id, or undefined. */
export async function findUserById(q: Queryable, id: string): Promise<UserRow | undefined> {
  return (await q('users').where({ id }).first()) as UserRow | undefined;
}

/** The user with this id; NotFound when there is none (a session or token names a user that is gone). */
export async function getUserById(q: Queryable, id: string): Promise<UserRow> {
  const user = await findUserById(q, id);
  if (!user) throw new UserNotFound('user not found');
  return user;
}

/** The user whose address hashes to `emailIndex`, or undefined. */
export async function findUserByEmailIndex(q: Queryable, emailIndex: string): Promise<UserRow | undefined> {
  return (await q('users').where({ email_index: emailIndex }).first()) as UserRow | undefined;
}

/** Handles are unique whatever their case. */
export async function findUserByHandle(q: Queryable, handle: string): Promise<UserRow | undefined> {
  // PostgreSQL text cannot hold NUL (the query would fail); no handle has one.
  if (handle.includes('\u0000')) return undefined;
  return (await q('users').where({ handle_lower: handle.toLowerCase() }).first()) as UserRow | undefined;
}

/** Changes columns of a user (and `handle_lower` with the handle). */
export async function updateUser(
  q: Queryable,
  id: string,
  patch: Partial<
    Pick<
      UserRow,
      | 'email_index'
      | 'handle'
      | 'password_hash'
      | 'password_changed_at'
      | 'email_verified_at'
      | 'biometrics'
      | 'public_key_pem'
      | 'public_key_type'
      | 'public_key_fingerprint'
    >
  >,
): Promise<void> {
  const row: Record<string, unknown> = { ...patch, updated_at: new Date() };
  if (patch.handle !== undefined) row.handle_lower = patch.handle.toLowerCase();
  await q('users').where({ id }).update(row);
}

/** True when the error is PostgreSQL's unique_violation on the named constraint (or on any, when none is named). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export interface SessionRow {
  id: string;
  family_id: string;
  user_id: string;
  access_hash: string;
  access_expires_at: Date;
  refresh_hash: string;
  refresh_expires_at: Date;
  refreshed_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
  client_ip: string | null;
  created_at: Date;
  auth_at: Date | null;
  auth_method: string | null;
}

/** Stores a token pair by its hashes. */
export async function insertSession(
  q: Queryable,
  row: Omit<SessionRow, 'refreshed_at' | 'revoked_at' | 'revoked_reason' | 'created_at' | 'auth_at' | 'auth_method'> & {
    auth_at?: Date | null;
    auth_method?: string | null;
  },
): Promise<void> {
  await q('sessions').insert(row);
}

/** SessionRow's columns, named: a prepared statement whose result changed shape (a column added) would fail. */
const SESSION_COLUMNS = `id, family_id, user_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at, refreshed_at,
  revoked_at, revoked_reason, client_ip, created_at, auth_at, auth_method`;

/**
 * The token pair whose access token hashes to this, or undefined. Every request with a session token runs it: a
 * named statement (planned once per connection, not on every request), sent straight to the driver outside a
 * transaction.
 */
export async function findSessionByAccessHash(q: Queryable, accessHash: string): Promise<SessionRow | undefined> {
  const sql = `select ${SESSION_COLUMNS} from sessions where access_hash = ?`;
  const name = 'rf_session_by_access_hash';
  const rows = q.isTransaction
    ? await statementsOf(q)<SessionRow>(name, sql, [accessHash])
    : await runStatement<SessionRow>(q as Db, name, sql, [accessHash]);
  return rows[0];
}

/** The token pair whose refresh token hashes to this, or undefined. */
export async function findSessionByRefreshHash(q: Queryable, refreshHash: string): Promise<SessionRow | undefined> {
  return (await q('sessions').where({ refresh_hash: refreshHash }).first()) as SessionRow | undefined;
}

/** Marks a login as the console's cookie session: its refresh tokens then renew only from the cookie. */
export async function bindFamilyToCookie(q: Queryable, familyId: string): Promise<void> {
  await q('sessions').where({ family_id: familyId }).update({ cookie_bound: true });
}

/** Whether a login is a cookie session (any of its token rows is marked: rotation adds rows to the family). */
export async function isCookieBoundFamily(q: Queryable, familyId: string): Promise<boolean> {
  return (await q('sessions').where({ family_id: familyId, cookie_bound: true }).first('id')) !== undefined;
}

/** Marks a refresh token spent; false when it already was (or was revoked), which makes this use a reuse. */
export async function spendRefreshToken(q: Queryable, sessionId: string, at: Date): Promise<boolean> {
  const rows = await q('sessions')
    .where({ id: sessionId })
    .whereNull('refreshed_at')
    .whereNull('revoked_at')
    .update({ refreshed_at: at })
    .returning('id');
  return rows.length === 1;
}

/** Ends the access token that hashes to this at `at` at the latest (a renewed cookie session's old and last tokens). */
export async function endAccessTokenAt(q: Queryable, accessHash: string, at: Date): Promise<void> {
  await q('sessions').where({ access_hash: accessHash }).where('access_expires_at', '>', at).update({ access_expires_at: at });
}

/** Revokes every live token of the matching families; returns how many families (login sessions) ended. */
export async function revokeSessions(
  q: Queryable,
  scope: { familyId: string } | { userId: string; exceptFamilyId?: string },
  reason: string,
): Promise<number> {
  const builder = q('sessions').whereNull('revoked_at');
  if ('familyId' in scope) builder.where({ family_id: scope.familyId });
  else {
    builder.where({ user_id: scope.userId });
    if (scope.exceptFamilyId) builder.whereNot({ family_id: scope.exceptFamilyId });
  }
  const rows = (await builder.update({ revoked_at: new Date(), revoked_reason: reason }).returning('family_id')) as { family_id: string }[];
  return new Set(rows.map((r) => r.family_id)).size;
}

export interface EmailVerificationRow {
  id: string;
  user_id: string;
  email_index: string;
  code_hash: string;
  attempts: number;
  sent_at: Date;
  expires_at: Date;
  /** The new address of a pending change, sealed; null for a code of the current address. */
  new_email: Uint8Array | null;
}

/** Replaces the user's pending code: one code is valid at a time. */
export async function putEmailVerification(q: Queryable, row: Omit<EmailVerificationRow, 'attempts'>): Promise<void> {
  await q('email_verifications')
    .insert({ ...row, attempts: 0 })
    .onConflict('user_id')
    .merge();
}

/** The user's pending verification code, or undefined. */
export async function findEmailVerification(q: Queryable, userId: string): Promise<EmailVerificationRow | undefined> {
  return (await q('email_verifications').where({ user_id: userId }).first()) as EmailVerificationRow | undefined;
}

/**
 * Takes one attempt at the code `id` before it is compared, in one statement, so parallel guesses get no more than
 * `max` between them; returns the attempts used, this one included, or undefined when none is left (or the code was
 * replaced meanwhile).
 */
export async function reserveVerificationAttempt(q: Queryable, id: string, max: number): Promise<number | undefined> {
  const [row] = (await q('email_verifications').where({ id }).where('attempts', '<', max).increment('attempts', 1).returning('attempts')) as {
    attempts: number;
  }[];
  return row?.attempts;
}

/** Drops the user's pending code. */
export async function deleteEmailVerification(q: Queryable, userId: string): Promise<void> {
  await q('email_verifications').where({ user_id: userId }).delete();
}

export interface PasswordResetRow {
  id: string;
  user_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  client_ip: string | null;
  created_at: Date;
}

/** Stores a reset token by its hash. */
export async function insertPasswordReset(q: Queryable, row: Omit<PasswordResetRow, 'used_at'>): Promise<void> {
  await q('password_resets').insert(row);
}

/** The reset whose token hashes to this, or undefined. */
export async function findPasswordResetByHash(q: Queryable, tokenHash: string): Promise<PasswordResetRow | undefined> {
  return (await q('password_resets').where({ token_hash: tokenHash }).first()) as PasswordResetRow | undefined;
}

/** The user's most recent reset request, or undefined. */
export async function latestPasswordReset(q: Queryable, userId: string): Promise<PasswordResetRow | undefined> {
  return (await q('password_resets').where({ user_id: userId }).orderBy('created_at', 'desc').first()) as PasswordResetRow | undefined;
}

/** Uses up every unused reset token of the user; true when `id` was among them (so this use is the only one). */
export async function spendPasswordResets(q: Queryable, userId: string, id: string, at: Date): Promise<boolean> {
  const rows = (await q('password_resets').where({ user_id: userId }).whereNull('used_at').update({ used_at: at }).returning('id')) as {
    id: string;
  }[];
  return rows.some((r) => r.id === id);
}

export interface ThrottleRow {
  key: string;
  failures: number;
  window_started_at: Date;
}

/** The throttle rows of these keys. */
export async function readThrottles(q: Queryable, keys: readonly string[]): Promise<ThrottleRow[]> {
  return (await q('login_throttle').whereIn('key', keys)) as ThrottleRow[];
}

/**
 * Takes one attempt of `key`'s allowance in one statement, so parallel requests cannot all pass a check made before
 * any of them counted: a new window starts when the current one began before `windowStart`, and the count never
 * passes `max`. Returns the attempts used in the window, this one included, or undefined when none was left.
 */
export async function reserveThrottle(q: Queryable, key: string, max: number, now: Date, windowStart: Date): Promise<number | undefined> {
  const result = (await q.raw(
    `insert into login_throttle (key, failures, window_started_at) values (?, 1, ?)
     on conflict (key) do update set
       failures = case when login_throttle.window_started_at < ? then 1 else login_throttle.failures + 1 end,
       window_started_at = case when login_throttle.window_started_at < ? then excluded.window_started_at else login_throttle.window_started_at end
     where login_throttle.window_started_at < ? or login_throttle.failures < ?
     returning failures`,
    [key, now, windowStart, windowStart, windowStart, max],
  )) as { rows: { failures: number }[] };
  return result.rows[0]?.failures;
}

/** Gives back one reserved attempt of `key` (an attempt that turned out not to be a failure). */
export async function releaseThrottle(q: Queryable, key: string): Promise<void> {
  await q('login_throttle').where({ key }).where('failures', '>', 0).decrement('failures', 1);
}

/** Forgets the failures of these keys, and of every key starting with `prefix` when one is given. */
export async function clearThrottle(q: Queryable, keys: readonly string[], prefix?: string): Promise<void> {
  const builder = q('login_throttle').whereIn('key', keys);
  if (prefix !== undefined) builder.orWhere('key', 'like', `${prefix.replace(/[\\%_]/g, '\\$&')}%`);
  await builder.delete();
}
