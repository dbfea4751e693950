/**
 * Passkeys (WebAuthn, @simplewebauthn/server): the ceremonies' options and the verification of their answers.
 * User verification is required in both ceremonies, so a passkey stands for "the device holder proved it is them"
 * (biometrics or PIN on the device; nothing of it reaches the server). The relying party is BASE_URL: its host is
 * the RP ID and its origin the only one accepted.
 */
import type {
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { recordAudit } from '../../audit/audit.ts';
import type { Config } from '../../config.ts';
import type { AppDeps } from '../../deps.ts';
import { AppError, PasskeyExists, PasskeyRefused } from '../../errors.ts';
import { getUserById, isUniqueViolation } from '../accounts/accounts.repo.ts';
import { issueChallenge, spendChallenge } from './challenges.ts';
import { findPasskeyByCredentialId, insertPasskey, listPasskeyRows, touchPasskey, transportsOf, type PasskeyRow } from './passkeys.repo.ts';

/** @simplewebauthn/server, loaded by the first ceremony (≈ 0.5 s of start-up a process without passkeys never pays). */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
function webauthn(): Promise<typeof import('@simplewebauthn/server')> {
  library ??= import('@simplewebauthn/server');
  return library;
}

export function relyingParty(config: Pick<Config, 'baseUrl'>): { rpID: string; origin: string; rpName: string } {
  const url = new URL(config.baseUrl);
  return { rpID: url.hostname, origin: url.origin, rpName: 'Ringfence' };
}

/** A passkey as its owner sees it. */
export function passkeyView(row: PasskeyRow) {
  return {
    passkey_id: row.id,
    name: row.name,
    transports: transportsOf(row),
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
  };
}

/** Why a WebAuthn answer was refused, for a person: the library's reason, never a stack. */
function refused(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const reason = err instanceof Error ? err.message : 'the answer could not be verified';
  return new PasskeyRefused(`the passkey was refused: ${reason}`);
}

/** The options of a registration ceremony for the signed-in person (their passkeys excluded). */
export async function registrationOptions(deps: AppDeps, userId: string) {
  const rp = relyingParty(deps.config);
  const user = await getUserById(deps.db, userId);
  const existing = await listPasskeyRows(deps.db, userId);
  const options = await (await webauthn()).generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: user.handle,
    userID: new TextEncoder().encode(user.id),
    userDisplayName: user.handle,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  await issueChallenge(deps.db, 'passkey-register', rp.origin, userId, options.challenge);
  return options;
}

/** Verifies a registration answer and stores the passkey (its id, public key, counter, transports and name). */
export async function registerPasskey(deps: AppDeps, userId: string, response: RegistrationResponseJSON, name: string | undefined, clientIp: string) {
  const rp = relyingParty(deps.config);
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await (await webauthn()).verifyRegistrationResponse({
      response,
      expectedChallenge: async (challenge) => (await spendChallenge(deps.db, 'passkey-register', rp.origin, challenge)).userId === userId,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    });
  } catch (err) {
    throw refused(err);
  }
  if (!verification.verified) throw new PasskeyRefused('the passkey was refused: its registration could not be verified');
  const { credential } = verification.registrationInfo;
  const count = (await listPasskeyRows(deps.db, userId)).length;
  try {
    return await deps.db.transaction(async (trx) => {
      const row = await insertPasskey(trx, {
        user_id: userId,
        credential_id: credential.id,
        public_key: credential.publicKey,
        counter: credential.counter,
        transports: (credential.transports ?? []).map(String),
        name: name?.trim() || `Passkey ${count + 1}`,
      });
      await recordAudit(trx, {
        action: 'passkey.registered',
        actor: `user:${userId}`,
        subject: `user:${userId}`,
        clientIp,
        data: { passkey_id: row.id, name: row.name },
      });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new PasskeyExists('this passkey is already registered');
    throw err;
  }
}

/**
 * The options of a sign-in ceremony: for anyone (discoverable credentials, as conditional UI offers them), or for
 * the signed-in person's own passkeys (a step-up).
 */
export async function authenticationOptions(deps: AppDeps, userId: string | null) {
  const rp = relyingParty(deps.config);
  const mine = userId ? await listPasskeyRows(deps.db, userId) : [];
  const options = await (await webauthn()).generateAuthenticationOptions({
    rpID: rp.rpID,
    userVerification: 'required',
    allowCredentials: mine.map((p) => ({ id: p.credential_id, transports: transportsOf(p) as never })),
  });
  await issueChallenge(deps.db, 'passkey-authenticate', rp.origin, userId, options.challenge);
  return options;
}

/** Verifies a sign-in answer; returns whose passkey signed it. A challenge issued for someone else is refused. */
export async function verifyPasskey(deps: AppDeps, response: AuthenticationResponseJSON, clientIp: string): Promise<PasskeyRow> {
  const rp = relyingParty(deps.config);
  const passkey = typeof response?.id === 'string' ? await findPasskeyByCredentialId(deps.db, response.id) : undefined;
  if (!passkey) throw new PasskeyRefused('this passkey is not registered here: sign in another way and add it first');
  let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verification = await (await webauthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: async (challenge) => {
        const { userId } = await spendChallenge(deps.db, 'passkey-authenticate', rp.origin, challenge);
        return userId === null || userId === passkey.user_id;
      },
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: {
        id: passkey.credential_id,
        publicKey: new Uint8Array(passkey.public_key),
        counter: Number(passkey.counter),
        transports: transportsOf(passkey) as never,
      },
      requireUserVerification: true,
    });
  } catch (err) {
    await recordAudit(deps.db, {
      action: 'passkey.refused',
      actor: 'anonymous',
      subject: `user:${passkey.user_id}`,
      clientIp,
      data: { passkey_id: passkey.id, reason: err instanceof Error ? err.message.slice(0, 200) : 'unverified' },
    });
    throw refused(err);
  }
  if (!verification.verified) throw new PasskeyRefused('the passkey was refused: its signature could not be verified');
  await touchPasskey(deps.db, passkey.id, verification.authenticationInfo.newCounter);
  return passkey;
}
