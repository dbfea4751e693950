/**
 * User sessions: an opaque access token (15 minutes) and a rotating refresh token (30 days), both stored only as
 * SHA-256 hashes. Each refresh spends its token and issues a new pair in the same family; presenting a spent
 * refresh token again means it leaked, so the whole family is revoked.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { recordAudit } from '../../audit/audit.ts';
import { hashToken, newToken } from '../../crypto/tokens.ts';
import {
  InvalidGrant,
  InvalidToken,
  RefreshTokenReused,
  StepUpRequired,
  TokenExpired,
  TokenMissing,
  TokenRevoked,
  Unauthenticated,
} from '../../errors.ts';
import type { AppDeps, Caller, SecurityResolver } from '../../deps.ts';
import { withTransaction, type Queryable } from '../../store/db.ts';
import { deleteProviderSessions } from '../../oidc/grants.repo.ts';
import { assertCsrfProof, cookieSessionToken } from './cookie-session.ts';
import { findSessionByAccessHash, findSessionByRefreshHash, insertSession, revokeSessions, spendRefreshToken } from './accounts.repo.ts';

const ACCESS_TOKEN_SECONDS = 15 * 60;
const REFRESH_TOKEN_SECONDS = 30 * 24 * 60 * 60;

export interface IssuedTokens {
  token: string;
  refresh_token: string;
  expires_in: number;
  sessionId: string;
}

/** How a login proved who it is: the factor and when (step-up compares the instant with the operation's limit). */
export type AuthMethod = 'password' | 'passkey' | 'key_pair';
export interface Authentication {
  at: Date;
  method: AuthMethod;
}

/**
 * Issues a token pair; a new login starts a family (authenticated now by `auth`, a password by default), a refresh
 * continues one and keeps the family's last authentication.
 */
export async function issueTokens(
  q: Knex.Transaction,
  userId: string,
  clientIp: string,
  familyId: string = randomUUID(),
  auth: Authentication | null = { at: new Date(), method: 'password' },
): Promise<IssuedTokens> {
  const token = newToken();
  const refreshToken = newToken();
  const now = Date.now();
  await insertSession(q, {
    id: randomUUID(),
    family_id: familyId,
    user_id: userId,
    access_hash: hashToken(token),
    access_expires_at: new Date(now + ACCESS_TOKEN_SECONDS * 1000),
    refresh_hash: hashToken(refreshToken),
    refresh_expires_at: new Date(now + REFRESH_TOKEN_SECONDS * 1000),
    client_ip: clientIp,
    auth_at: auth?.at ?? null,
    auth_method: auth?.method ?? null,
  });
  return { token, refresh_token: refreshToken, expires_in: ACCESS_TOKEN_SECONDS, sessionId: familyId };
}

/** The session token of a request: the Authorization header (canonical) or a `token` body field (seed clients). */
function presentedToken(ctx: Parameters<SecurityResolver>[0]): string | undefined {
  const header = ctx.get('authorization');
  if (header) {
    const match = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
    return match ? match[1] : undefined;
  }
  const body = ctx.state.body as Record<string, unknown> | undefined;
  return typeof body?.token === 'string' && body.token !== '' ? body.token : undefined;
}

/** The caller a session token stands for; throws Unauthenticated saying why a token is not accepted. */
async function callerForToken(deps: AppDeps, token: string): Promise<Extract<Caller, { kind: 'user' }>> {
  const row = await findSessionByAccessHash(deps.db, hashToken(token));
  if (!row) throw new InvalidToken('token is not valid: log in again');
  if (row.revoked_at) throw new TokenRevoked('token has been revoked: log in again');
  if (new Date(row.access_expires_at).getTime() <= Date.now()) {
    throw new TokenExpired();
  }
  return {
    kind: 'user',
    userId: row.user_id,
    sessionId: row.family_id,
    expiresAt: new Date(row.access_expires_at),
    authAt: row.auth_at ? new Date(row.auth_at) : null,
    authMethod: row.auth_method,
  };
}

/** The `sessionToken` security scheme of openapi.yaml. */
export const resolveSessionToken: SecurityResolver = async (ctx, deps) => {
  const presented = presentedToken(ctx);
  // Else the console's cookie (./cookie-session.ts), with the CSRF proof of its login (which renewals keep).
  const token = presented ?? cookieSessionToken(ctx, deps);
  if (!token) return undefined;
  const caller = await callerForToken(deps, token);
  if (presented === undefined) assertCsrfProof(ctx, deps, caller.sessionId);
  return { caller, credential: token };
};

/** Rotates a refresh token: the old one is spent, a new pair continues the family. */
export async function refreshSession(deps: AppDeps, refreshToken: string, clientIp: string): Promise<IssuedTokens> {
  const row = await findSessionByRefreshHash(deps.db, hashToken(refreshToken));
  if (!row) throw new InvalidGrant('refresh_token is not valid: log in again');
  if (row.revoked_at) throw new InvalidGrant('refresh_token has been revoked: log in again');
  const reused = async () => {
    await withTransaction(deps.db, async (trx) => {
      const ended = await revokeSessions(trx, { familyId: row.family_id }, 'refresh_token_reuse');
      await recordAudit(trx, {
        action: 'session.refresh_reuse',
        actor: 'anonymous',
        subject: `user:${row.user_id}`,
        clientIp,
        data: { session_id: row.family_id, sessions_ended: ended },
      });
    });
    return new RefreshTokenReused('refresh_token was already used, so it may have leaked: every token of that login has been revoked; log in again');
  };
  if (row.refreshed_at) throw await reused();
  if (new Date(row.refresh_expires_at).getTime() <= Date.now()) {
    throw new InvalidGrant('refresh_token has expired: log in again');
  }
  const issued = await withTransaction(deps.db, async (trx) => {
    // Two requests racing with one token: only one spends it, the other is a reuse.
    if (!(await spendRefreshToken(trx, row.id, new Date()))) return undefined;
    return issueTokens(
      trx,
      row.user_id,
      clientIp,
      row.family_id,
      row.auth_at ? { at: new Date(row.auth_at), method: row.auth_method as AuthMethod } : null,
    );
  });
  if (!issued) throw await reused();
  return issued;
}

/** What a token is, for `POST /auth/verify`: never an error, only active or not. */
export async function inspectToken(deps: AppDeps, token: string): Promise<{ active: boolean; expires_at?: string; user_id?: string }> {
  try {
    const caller = await callerForToken(deps, token);
    return { active: true, expires_at: caller.expiresAt.toISOString(), user_id: caller.userId };
  } catch (err) {
    if (err instanceof Unauthenticated) return { active: false };
    throw err;
  }
}

/** Ends the caller's login session and, when given, the one a refresh token of the same user belongs to. */
export async function logout(
  deps: AppDeps,
  caller: Extract<Caller, { kind: 'user' }>,
  refreshToken: string | undefined,
  clientIp: string,
): Promise<number> {
  return withTransaction(deps.db, async (trx) => {
    let ended = await revokeSessions(trx, { familyId: caller.sessionId }, 'logout');
    if (refreshToken) {
      const other = await findSessionByRefreshHash(trx, hashToken(refreshToken));
      if (other && other.user_id === caller.userId && other.family_id !== caller.sessionId) {
        ended += await revokeSessions(trx, { familyId: other.family_id }, 'logout');
      }
    }
    await recordAudit(trx, {
      action: 'session.logout',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { sessions_ended: ended },
    });
    return ended;
  });
}

/** Ends every session of the caller, this one included, and their browser sessions at the OpenID provider. */
export async function logoutAll(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>, clientIp: string): Promise<number> {
  return withTransaction(deps.db, async (trx) => {
    const ended = await revokeSessions(trx, { userId: caller.userId }, 'logout_all');
    await deleteProviderSessions(trx, caller.userId);
    await recordAudit(trx, {
      action: 'session.logout_all',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { sessions_ended: ended },
    });
    return ended;
  });
}

/** Records that the login `familyId` has just proved who it is again (step-up), on every live token of it. */
export async function recordAuthentication(q: Queryable, familyId: string, method: AuthMethod, at = new Date()): Promise<void> {
  await q('sessions').where({ family_id: familyId }).whereNull('revoked_at').update({ auth_at: at, auth_method: method });
}

/** What satisfies a step-up: the factors this person can use now, in the order a client should offer them. */
const STEP_UP_METHODS: readonly AuthMethod[] = ['passkey', 'key_pair', 'password'];

/**
 * The step-up rule of the operations marked `x-step-up` in openapi.yaml: the caller's login must have proved who
 * it is within `maxAgeSeconds`, else a 401 `step_up_required` says how (RFC 9470's challenge in WWW-Authenticate).
 */
export function assertRecentAuthentication(caller: Caller, maxAgeSeconds: number): void {
  if (caller.kind !== 'user') return;
  const at = caller.authAt?.getTime();
  if (at !== undefined && Date.now() - at <= maxAgeSeconds * 1000) return;
  throw new StepUpRequired(
    `this needs a recent sign-in: confirm it is you with a passkey, your key pair or your password (POST /api/v1/auth/step-up), then send the request again`,
    {
      headers: {
        'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="a recent authentication is required", max_age="${maxAgeSeconds}"`,
      },
      details: [
        { path: 'step_up', message: `authenticate again within ${maxAgeSeconds} seconds: POST /api/v1/auth/step-up` },
        { path: 'methods', message: STEP_UP_METHODS.join(', ') },
      ],
    },
  );
}

/** The caller as a signed-in user, for handlers of operations whose security is `sessionToken`. */
export function userCaller(caller: Caller): Extract<Caller, { kind: 'user' }> {
  if (caller.kind !== 'user') throw new TokenMissing();
  return caller;
}
