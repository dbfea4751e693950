/**
 * The e-mail address of an account: how it is indexed and compared, verifying it with a one-time code (expiry,
 * attempt limit, resend cooldown) and changing it. Every mail goes through the outbox in the transaction of the
 * change that causes it. Resetting a forgotten password is in password-reset.ts.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { recordAudit } from '../../audit/audit.ts';
import { safeEqual } from '../../crypto/tokens.ts';
import type { Keyring } from '../../crypto/envelope.ts';
import {
  AlreadyVerified,
  CodeAttemptsExceeded,
  CodeExpired,
  EmailExists,
  InvalidCode,
  NoCodePending,
  TooManyRequests,
  WrongCode,
} from '../../errors.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import { withTransaction } from '../../store/db.ts';
import { fieldCatalogue } from '../../profiles/catalogue.ts';
import { openForProfile, openProfile, sealForProfile, type OpenProfile } from '../../disclosure/container.ts';
import { bumpProfileVersionOfUser, openUserProfile, readUserFields, writeFields } from '../../profiles/profile.repo.ts';
import {
  deleteEmailVerification,
  findEmailVerification,
  getUserById,
  isUniqueViolation,
  putEmailVerification,
  reserveVerificationAttempt,
  updateUser,
  type UserRow,
} from './accounts.repo.ts';
import { CODES_PER_ACCOUNT, CODES_PER_ADDRESS, MAIL_PER_ACCOUNT, releaseLimit, reserveUnderLimit } from './throttle.ts';

const CODE_SECONDS = 15 * 60;
const MAX_CODE_ATTEMPTS = 5;
const RESEND_COOLDOWN_SECONDS = 60;

const RESEND_HINT = 'ask for a new one with POST /api/v1/auth/verify-email/resend';

/** The form an address is compared in: trimmed, NFC, lower case. */
function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

/** A keyed hash of the normalized address: how an account is found by e-mail without storing it in the clear. */
export function emailIndex(keyring: Keyring, email: string): string {
  return createHmac('sha256', keyring.derive('email-index')).update(normalizeEmail(email)).digest('hex');
}

/**
 * What a login is throttled by: the address's keyed index (never its text, nor an unkeyed hash of it) or the
 * handle in lower case. A password reset clears the counters of the account's current two.
 */
export function loginIdentifier(deps: Pick<AppDeps, 'keyring'>, login: { email: string } | { handle: string }): string {
  return 'email' in login ? `email:${emailIndex(deps.keyring, login.email)}` : `handle:${login.handle.trim().toLowerCase()}`;
}

function codeHash(keyring: Keyring, userId: string, code: string): string {
  return createHmac('sha256', keyring.derive('email-code')).update(`${userId}:${code}`).digest('hex');
}

/** The account's current address, opened from its profile. */
export async function currentEmail(deps: AppDeps, q: Knex | Knex.Transaction, userId: string): Promise<string> {
  return (await readUserFields(q, deps.keyring, userId, ['email'])).email as string;
}

/** The pending new address of an e-mail change is sealed on its code's row with this associated data. */
const newEmailAad = (userId: string) => `email_verifications:${userId}:new_email`;

/**
 * The resend rule: at most one code a minute per account, whichever address it goes to. 429 while the pending
 * code is younger than that.
 */
function assertCodeCooldown(pending: { sent_at: Date | string } | undefined): void {
  if (!pending) return;
  const wait = new Date(pending.sent_at).getTime() + RESEND_COOLDOWN_SECONDS * 1000 - Date.now();
  if (wait > 0)
    throw new TooManyRequests(`a code was sent less than a minute ago: wait ${Math.ceil(wait / 1000)} seconds before asking again`, wait / 1000);
}

/**
 * Issues a new code for `email` (replacing any pending one) and mails it, inside `trx`; returns the code's id.
 * With `change` (the address sealed for the profile), entering the code makes `email` the account's address.
 * The mail counts against the account's hourly cap (429 past it, and nothing is written).
 */
export async function sendVerificationCode(trx: Knex.Transaction, deps: AppDeps, userId: string, email: string, change?: Buffer): Promise<string> {
  await reserveUnderLimit(trx, MAIL_PER_ACCOUNT, userId);
  const id = randomUUID();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = Date.now();
  await putEmailVerification(trx, {
    id,
    user_id: userId,
    email_index: emailIndex(deps.keyring, email),
    code_hash: codeHash(deps.keyring, userId, code),
    sent_at: new Date(now),
    expires_at: new Date(now + CODE_SECONDS * 1000),
    new_email: change ?? null,
  });
  const purpose = change ? 'to make this address the e-mail address of your Ringfence account' : 'to verify this e-mail address for Ringfence';
  const ignore = change
    ? 'If you did not ask for this, ignore this message: the account keeps its address.'
    : 'If you did not sign up for Ringfence, ignore this message.';
  await deps.outbox.enqueueMail(
    trx,
    {
      to: email,
      subject: 'Your Ringfence verification code',
      text: `Your code ${purpose} is: ${code}\n\nIt works for ${CODE_SECONDS / 60} minutes. ${ignore}\n`,
    },
    `verify-email:${id}`,
  );
  return id;
}

/**
 * Starts a change of the account's address to `newEmail`, inside `trx`: the new address gets a code and becomes
 * the account's only when the code is entered (verifyEmailCode); until then login, password resets and mail keep
 * using the old address, which is told now. The resend rule holds here too (a change mails a stranger's address as
 * readily as a resend), and both mails count against the account's hourly cap: 429 past either, nothing written.
 * The caller holds the profile's row lock, so parallel changes meet these checks one after the other.
 */
export async function requestEmailChange(
  trx: Knex.Transaction,
  deps: AppDeps,
  profile: OpenProfile,
  handle: string,
  oldEmail: string,
  newEmail: string,
): Promise<void> {
  assertCodeCooldown(await findEmailVerification(trx, profile.userId));
  await reserveUnderLimit(trx, MAIL_PER_ACCOUNT, profile.userId);
  const id = await sendVerificationCode(trx, deps, profile.userId, newEmail, sealForProfile(profile, newEmail, newEmailAad(profile.userId)));
  await deps.outbox.enqueueMail(
    trx,
    {
      to: oldEmail,
      subject: 'A change of your Ringfence e-mail address was requested',
      text:
        `Someone signed in to your Ringfence account (@${handle}) asked to change its e-mail address. The change ` +
        `takes effect only once the code mailed to the new address is entered; until then this address keeps ` +
        `receiving the account's mail and password resets.\n` +
        'If this was not you, change your password at once (PUT /api/v1/auth/password, or POST ' +
        '/api/v1/auth/forgot-password with this address): that also signs out every other session.\n',
    },
    `email-change-requested:${id}`,
  );
}

/** Checks the code the user typed; the address is verified when it matches. */
export async function verifyEmailCode(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>, code: string, clientIp: string): Promise<void> {
  const user = await getUserById(deps.db, caller.userId);
  const pending = await findEmailVerification(deps.db, user.id);
  // A code of the current address, or of a new address waiting to replace it.
  if (!pending || (pending.new_email === null && pending.email_index !== user.email_index)) {
    if (user.email_verified_at) return;
    throw new NoCodePending(`no verification code is pending for your address: ${RESEND_HINT}`);
  }
  if (!/^\d{6}$/.test(code)) {
    throw new InvalidCode('code must be the 6 digits from the e-mail', { details: [{ path: 'code', message: 'must be 6 digits' }] });
  }
  const usedUp = () => new CodeAttemptsExceeded(`too many wrong codes: this one no longer works; ${RESEND_HINT}`);
  if (pending.attempts >= MAX_CODE_ATTEMPTS) throw usedUp();
  if (new Date(pending.expires_at).getTime() <= Date.now()) {
    throw new CodeExpired(`the code has expired: ${RESEND_HINT}`);
  }
  // Each code allows a few attempts; these limits hold across codes (resending) and across accounts. Every attempt
  // is taken before the code is compared, each in one statement, so parallel guesses get no more between them.
  await reserveUnderLimit(deps.db, CODES_PER_ACCOUNT, user.id);
  try {
    await reserveUnderLimit(deps.db, CODES_PER_ADDRESS, clientIp);
  } catch (err) {
    await releaseLimit(deps.db, CODES_PER_ACCOUNT, user.id);
    throw err;
  }
  const release = async () => {
    await releaseLimit(deps.db, CODES_PER_ACCOUNT, user.id);
    await releaseLimit(deps.db, CODES_PER_ADDRESS, clientIp);
  };
  const attempts = await reserveVerificationAttempt(deps.db, pending.id, MAX_CODE_ATTEMPTS);
  if (attempts === undefined) {
    await release();
    throw usedUp();
  }
  if (!safeEqual(codeHash(deps.keyring, user.id, code), pending.code_hash)) {
    // The attempt stays counted though the request fails: that is what makes the limits hold.
    const left = Math.max(0, MAX_CODE_ATTEMPTS - attempts);
    throw new WrongCode(left > 0 ? `the code is wrong: ${left} attempt(s) left` : `the code is wrong and that was the last attempt: ${RESEND_HINT}`, {
      details: [{ path: 'code', message: 'does not match the code we sent' }],
    });
  }
  await release();
  const change = pending.new_email;
  if (change !== null) {
    await applyEmailChange(deps, user, pending.email_index, change, clientIp);
    return;
  }
  await withTransaction(deps.db, async (trx) => {
    await updateUser(trx, user.id, { email_verified_at: new Date() });
    await deleteEmailVerification(trx, user.id);
    await recordAudit(trx, { action: 'email.verified', actor: `user:${user.id}`, subject: `user:${user.id}`, clientIp });
  });
}

/** The code of a new address was entered: it becomes the account's address (profile field and login), verified. */
async function applyEmailChange(deps: AppDeps, user: UserRow, newIndex: string, sealed: Uint8Array, clientIp: string): Promise<void> {
  try {
    await withTransaction(deps.db, async (trx) => {
      const profile = openProfile(deps.keyring, (await bumpProfileVersionOfUser(trx, user.id))!);
      const address = openForProfile(profile, sealed, newEmailAad(user.id)).toString('utf8');
      const ring = fieldCatalogue(deps).fields.get('email')!.ring;
      await writeFields(trx, profile, [{ field: 'email', value: address, ring, provenance: 'user' }]);
      await updateUser(trx, user.id, { email_index: newIndex, email_verified_at: new Date() });
      await deleteEmailVerification(trx, user.id);
      await recordAudit(trx, {
        action: 'email.changed',
        actor: `user:${user.id}`,
        subject: `user:${user.id}`,
        clientIp,
        data: { profile_id: profile.id, version: profile.version },
      });
    });
  } catch (err) {
    // Another account took the address while the code was on its way.
    if (isUniqueViolation(err, 'users_email_index_unique')) {
      throw new EmailExists(undefined, { details: [{ path: 'email', message: 'is already used by an account' }] });
    }
    throw err;
  }
}

/** Sends a fresh code, at most once a minute. */
export async function resendVerificationCode(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>): Promise<{ expires_in: number }> {
  const user = await getUserById(deps.db, caller.userId);
  const pending = await findEmailVerification(deps.db, user.id);
  const change = pending?.new_email ?? null;
  if (user.email_verified_at && change === null) throw new AlreadyVerified('your e-mail address is already verified');
  assertCodeCooldown(pending);
  await withTransaction(deps.db, async (trx) => {
    if (change === null) return sendVerificationCode(trx, deps, user.id, await currentEmail(deps, trx, user.id));
    // A change waiting for its code: the new address gets a fresh one.
    const profile = await openUserProfile(trx, deps.keyring, user.id);
    const address = openForProfile(profile, change, newEmailAad(user.id)).toString('utf8');
    return sendVerificationCode(trx, deps, user.id, address, Buffer.from(change));
  });
  return { expires_in: CODE_SECONDS };
}
