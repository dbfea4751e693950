/**
 * Accounts: registration (seed API 1), login, the signed-in user, and changing a password. Registration creates
 * the user, the profile container with its own data key, the first profile fields, a session and a verification
 * code in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import { hashPassword, passwordProblems, verifyAgainstDecoy, verifyPassword } from '../../crypto/passwords.ts';
import { PemRejected, parsePublicKeyPem, type PublicKeyInfo } from '../../crypto/pki.ts';
import {
  EmailExists,
  HandleExists,
  InvalidCredentials,
  InvalidRequest,
  PrivateKeyRefused,
  WeakPassword,
  WrongPassword,
  type Conflict,
  type ErrorDetail,
} from '../../errors.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import { withTransaction } from '../../store/db.ts';
import { fieldCatalogue } from '../../profiles/catalogue.ts';
import { sealForProfile } from '../../disclosure/container.ts';
import { insertProfile, readUserFields, writeFields, findProfileByUser } from '../../profiles/profile.repo.ts';
import { checkFieldValue } from '../../profiles/values.ts';
import {
  findUserByEmailIndex,
  findUserByHandle,
  getUserById,
  insertUser,
  isUniqueViolation,
  revokeSessions,
  updateUser,
  type UserRow,
} from './accounts.repo.ts';
import { deleteProviderSessions } from '../../oidc/grants.repo.ts';
import { emailIndex, loginIdentifier, sendVerificationCode } from './email.ts';
import { issueTokens, type IssuedTokens } from './sessions.ts';
import {
  assertAccountOpen,
  countAccountFailure,
  identifierKeys,
  loginSucceeded,
  registrationsPerAddress,
  reserveLoginAttempt,
  reserveUnderLimit,
  throttleKeys,
} from './throttle.ts';

export interface RegisterInput {
  name: string;
  email: string;
  handle: string;
  password: string;
  biometrics?: string;
  public_key?: string;
}

export type Registered = {
  user_id: string;
  profile_id: string;
  token: string;
  refresh_token: string;
  expires_in: number;
  /** Where biometric sign-in is set up: a passkey, which keeps the biometrics on the person's device. */
  passkeys: { registration_options: string; page: string };
};

const PASSKEYS = { registration_options: '/api/v1/profile/passkeys/registration-options', page: '/account/passkeys' };

/** Biometric templates are sealed under the profile's key with this associated data; they are never read back here. */
const biometricsAad = (userId: string) => `users:${userId}:biometrics`;

/** The 409 of a taken address, in the seed's words. */
export function emailTaken(): Conflict {
  return new EmailExists(undefined, { details: [{ path: 'email', message: 'is already used by an account' }] });
}

/** The 409 of a taken handle. */
export function handleTaken(): Conflict {
  return new HandleExists(undefined, { details: [{ path: 'handle', message: 'is already taken, whatever its case' }] });
}

/** Checks the public key of a registration; a private key is refused on its own, before anything else. */
function checkPublicKey(pem: string | undefined, details: ErrorDetail[]): PublicKeyInfo | undefined {
  if (pem === undefined || pem.trim() === '') return undefined;
  try {
    return parsePublicKeyPem(pem);
  } catch (err) {
    if (!(err instanceof PemRejected)) throw err;
    if (err.reason === 'private_key') {
      throw new PrivateKeyRefused(`public_key: ${err.message}`, {
        details: [{ path: 'public_key', message: 'is a private key: never send it' }],
      });
    }
    details.push({ path: 'public_key', message: err.message });
    return undefined;
  }
}

/** Seed API 1: checks everything first, then creates the account, its profile and its first session at once. */
export async function register(deps: AppDeps, input: RegisterInput, clientIp: string): Promise<Registered> {
  const catalogue = fieldCatalogue(deps);
  const details: ErrorDetail[] = [];
  const publicKey = checkPublicKey(input.public_key, details);
  const initial: Record<string, unknown> = {};
  for (const field of ['name', 'email', 'handle'] as const) {
    const checked = checkFieldValue(catalogue, catalogue.fields.get(field)!, input[field], field);
    if (checked.ok) initial[field] = checked.value;
    else details.push(...checked.problems);
  }
  for (const message of passwordProblems(input.password, [input.email, input.handle, input.name])) {
    details.push({ path: 'password', message });
  }
  if (details.length > 0) throw InvalidRequest.validation(details);
  // Counted once the input is valid, taken addresses included: each registration mails the address it names, and
  // a 409 says an address has an account.
  await reserveUnderLimit(deps.db, registrationsPerAddress(deps.config.registrationsPerAddress), clientIp);

  const email = initial.email as string;
  const handle = initial.handle as string;
  const index = emailIndex(deps.keyring, email);
  if (await findUserByEmailIndex(deps.db, index)) throw emailTaken();
  if (await findUserByHandle(deps.db, handle)) throw handleTaken();
  const passwordHash = await hashPassword(input.password);

  try {
    return await withTransaction(deps.db, async (trx) => {
      const userId = randomUUID();
      await insertUser(trx, {
        id: userId,
        email_index: index,
        handle,
        password_hash: passwordHash,
        public_key_pem: publicKey?.pem ?? null,
        public_key_type: publicKey?.type ?? null,
        public_key_fingerprint: publicKey?.fingerprint ?? null,
      });
      const profile = await insertProfile(trx, deps.keyring, userId);
      if (input.biometrics !== undefined && input.biometrics !== '') {
        await updateUser(trx, userId, { biometrics: sealForProfile(profile, input.biometrics, biometricsAad(userId)) });
      }
      await writeFields(
        trx,
        profile,
        Object.entries(initial).map(([field, value]) => ({ field, value, ring: catalogue.fields.get(field)!.ring, provenance: 'registration' })),
      );
      const tokens = await issueTokens(trx, userId, clientIp);
      await sendVerificationCode(trx, deps, userId, email);
      await recordAudit(trx, {
        action: 'user.register',
        actor: `user:${userId}`,
        subject: `user:${userId}`,
        clientIp,
        data: {
          profile_id: profile.id,
          session_id: tokens.sessionId,
          public_key_fingerprint: publicKey?.fingerprint,
          biometrics_enrolled: input.biometrics !== undefined && input.biometrics !== '',
        },
      });
      return {
        user_id: userId,
        profile_id: profile.id,
        token: tokens.token,
        refresh_token: tokens.refresh_token,
        expires_in: tokens.expires_in,
        passkeys: PASSKEYS,
      };
    });
  } catch (err) {
    // Two registrations racing for one address or handle: the database decides, the loser hears why.
    if (isUniqueViolation(err, 'users_email_index_unique')) throw emailTaken();
    if (isUniqueViolation(err, 'users_handle_lower_unique')) throw handleTaken();
    throw err;
  }
}

export interface LoginInput {
  email?: string;
  handle?: string;
  password: string;
}

const WRONG_CREDENTIALS = 'the email or handle, or the password, is wrong';

/**
 * Checks a login (an e-mail address, or a handle) and password, throttled by the identifier as typed and per client
 * address before the password is checked, and per account once it proved right (throttle.ts says why).
 * Returns the user, or undefined for an unknown account and a wrong password alike; throws TooManyRequests while
 * throttled. Failures are recorded and audited whatever the caller does next. The OpenID provider's login page
 * uses this too, so both ways in share one throttle.
 */
async function authenticate(
  deps: AppDeps,
  login: { email: string } | { handle: string },
  password: string,
  clientIp: string,
): Promise<UserRow | undefined> {
  const by = 'email' in login ? 'email' : 'handle';
  const user =
    'email' in login ? await findUserByEmailIndex(deps.db, emailIndex(deps.keyring, login.email)) : await findUserByHandle(deps.db, login.handle);
  // Keyed by what was typed, never by the account it names, so these answers are alike for every identifier.
  const keys = identifierKeys(loginIdentifier(deps, login), clientIp);
  // The attempt is counted before the password is checked, so parallel guesses cannot pass the limit.
  await reserveLoginAttempt(deps.db, keys);
  const ok = user ? await verifyPassword(user.password_hash, password) : await verifyAgainstDecoy(password);
  if (!ok || !user) {
    if (user) await countAccountFailure(deps.db, user.id, clientIp);
    await recordAudit(deps.db, {
      action: 'session.login_failed',
      actor: 'anonymous',
      subject: user ? `user:${user.id}` : undefined,
      clientIp,
      data: { by, reason: user ? 'wrong_password' : 'unknown_account' },
    });
    return undefined;
  }
  await assertAccountOpen(deps.db, user.id, clientIp, keys);
  await loginSucceeded(deps.db, keys, user.id);
  return user;
}

/** `authenticate` for a single login text: an address when it holds an @, else a handle. */
export function authenticateLogin(deps: AppDeps, login: string, password: string, clientIp: string): Promise<UserRow | undefined> {
  return authenticate(deps, login.includes('@') ? { email: login } : { handle: login }, password, clientIp);
}

/** Logs in with e-mail or handle; an unknown account and a wrong password are indistinguishable to the caller. */
export async function login(deps: AppDeps, input: LoginInput, clientIp: string): Promise<IssuedTokens & { user_id: string }> {
  if ((input.email === undefined) === (input.handle === undefined)) {
    throw InvalidRequest.validation(
      [{ path: input.email === undefined ? 'email' : 'handle', message: 'exactly one of email and handle is required' }],
      'send either email or handle (not both), with password',
    );
  }
  const by = input.email !== undefined ? 'email' : 'handle';
  const user = await authenticate(deps, input.email !== undefined ? { email: input.email } : { handle: input.handle! }, input.password, clientIp);
  if (!user) throw new InvalidCredentials(WRONG_CREDENTIALS);
  return withTransaction(deps.db, async (trx) => {
    const tokens = await issueTokens(trx, user.id, clientIp);
    await recordAudit(trx, {
      action: 'session.login',
      actor: `user:${user.id}`,
      subject: `user:${user.id}`,
      clientIp,
      data: { session_id: tokens.sessionId, by },
    });
    return { ...tokens, user_id: user.id };
  });
}

/** The signed-in user as `GET /auth/me` shows them. */
export async function currentUser(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>) {
  const user = await getUserById(deps.db, caller.userId);
  const profile = await findProfileByUser(deps.db, user.id);
  const own = await readUserFields(deps.db, deps.keyring, user.id, ['name', 'email']);
  return {
    user_id: user.id,
    profile_id: profile!.id,
    handle: user.handle,
    name: own.name as string | null,
    email: own.email as string,
    email_verified: user.email_verified_at !== null,
    public_key: user.public_key_pem
      ? { type: user.public_key_type as string, fingerprint: user.public_key_fingerprint as string, pem: user.public_key_pem }
      : null,
    biometrics_enrolled: user.biometrics !== null,
    created_at: new Date(user.created_at).toISOString(),
    session: { session_id: caller.sessionId, expires_at: caller.expiresAt.toISOString() },
  };
}

/**
 * Checks the current password a signed-in user sends to confirm a sensitive change (a new password, a new e-mail
 * address): throttled like a login, a wrong one audited as `failedAction` and refused with 400 `wrong_password`.
 */
export async function checkCurrentPassword(deps: AppDeps, user: UserRow, password: string, clientIp: string, failedAction: string): Promise<void> {
  // The caller is signed in: counting against the account before the check links nothing.
  const keys = throttleKeys(user.id, clientIp);
  await reserveLoginAttempt(deps.db, keys);
  if (!(await verifyPassword(user.password_hash, password))) {
    await recordAudit(deps.db, {
      action: failedAction,
      actor: `user:${user.id}`,
      subject: `user:${user.id}`,
      clientIp,
      data: { reason: 'wrong_current_password' },
    });
    throw new WrongPassword('current_password is not your current password', {
      details: [{ path: 'current_password', message: 'does not match' }],
    });
  }
  await loginSucceeded(deps.db, keys);
}

/** Changes the password with the current one; every other session ends, this one stays. */
export async function changePassword(
  deps: AppDeps,
  caller: Extract<Caller, { kind: 'user' }>,
  input: { current_password: string; new_password: string },
  clientIp: string,
): Promise<{ sessions_ended: number }> {
  const user = await getUserById(deps.db, caller.userId);
  await checkCurrentPassword(deps, user, input.current_password, clientIp, 'password.change_failed');
  const own = await readUserFields(deps.db, deps.keyring, user.id, ['email', 'name']);
  const problems = passwordProblems(input.new_password, [own.email as string, user.handle, own.name as string]);
  if (input.new_password === input.current_password) problems.push('is the same as the current password: choose a new one');
  if (problems.length > 0) {
    throw new WeakPassword(`new_password ${problems.join('; ')}`, {
      details: problems.map((message) => ({ path: 'new_password', message })),
    });
  }
  const passwordHash = await hashPassword(input.new_password);
  return withTransaction(deps.db, async (trx) => {
    await updateUser(trx, user.id, { password_hash: passwordHash, password_changed_at: new Date() });
    const ended = await revokeSessions(trx, { userId: user.id, exceptFamilyId: caller.sessionId }, 'password_change');
    await deleteProviderSessions(trx, user.id);
    await recordAudit(trx, {
      action: 'password.change',
      actor: `user:${user.id}`,
      subject: `user:${user.id}`,
      clientIp,
      data: { sessions_ended: ended },
    });
    return { sessions_ended: ended };
  });
}
