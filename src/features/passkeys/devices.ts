/**
 * Sessions and devices: the person's live first-party logins (one per token family), their browser sessions at the
 * OpenID provider, and their passkeys with last use; any of the sessions can be ended from here.
 */
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import { SessionNotFound } from '../../errors.ts';
import { deleteProviderSession, listProviderSessions } from '../../oidc/grants.repo.ts';
import { revokeSessions } from '../accounts/accounts.repo.ts';
import { listPasskeyRows } from './passkeys.repo.ts';
import { passkeyView } from './webauthn.ts';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export async function listDevices(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>) {
  const families = (await deps
    .db('sessions')
    .where({ user_id: caller.userId })
    .whereNull('revoked_at')
    .where('refresh_expires_at', '>', new Date())
    .groupBy('family_id')
    .select('family_id')
    .min({ started_at: 'created_at' })
    .max({ last_active_at: 'created_at', auth_at: 'auth_at' })) as {
    family_id: string;
    started_at: Date;
    last_active_at: Date;
    auth_at: Date | null;
  }[];
  // The latest row of each family carries its address and how it last authenticated.
  const latest = (await deps
    .db('sessions')
    .distinctOn('family_id')
    .whereIn(
      'family_id',
      families.map((f) => f.family_id),
    )
    .orderBy([{ column: 'family_id' }, { column: 'created_at', order: 'desc' }])
    .select('family_id', 'client_ip', 'auth_method')) as { family_id: string; client_ip: string | null; auth_method: string | null }[];
  const byFamily = new Map(latest.map((r) => [r.family_id, r]));
  const sessions = [
    ...families
      .sort((a, b) => new Date(b.last_active_at).getTime() - new Date(a.last_active_at).getTime())
      .map((f) => ({
        session_id: f.family_id,
        kind: 'api' as const,
        current: f.family_id === caller.sessionId,
        started_at: iso(f.started_at),
        last_active_at: iso(f.last_active_at),
        client_ip: byFamily.get(f.family_id)?.client_ip ?? null,
        authenticated_at: iso(f.auth_at),
        auth_method: byFamily.get(f.family_id)?.auth_method ?? null,
        services: [] as string[],
      })),
    ...(await listProviderSessions(deps.db, caller.userId)).map((s) => ({
      session_id: `browser:${s.handle}`,
      kind: 'browser' as const,
      current: false,
      started_at: iso(s.signedInAt),
      last_active_at: null,
      client_ip: null,
      authenticated_at: iso(s.signedInAt),
      auth_method: null,
      services: s.clients,
    })),
  ];
  return { sessions, passkeys: (await listPasskeyRows(deps.db, caller.userId)).map(passkeyView) };
}

/** Ends one session of the caller's: a first-party login (every token of it) or a browser session at the provider. */
export async function endSession(deps: AppDeps, caller: Extract<Caller, { kind: 'user' }>, sessionId: string, clientIp: string) {
  return deps.db.transaction(async (trx) => {
    let ended = 0;
    if (sessionId.startsWith('browser:')) {
      ended = (await deleteProviderSession(trx, caller.userId, sessionId.slice('browser:'.length))) ? 1 : 0;
    } else if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId)) {
      const mine = await trx('sessions').where({ user_id: caller.userId, family_id: sessionId }).whereNull('revoked_at').first('id');
      if (mine) ended = await revokeSessions(trx, { familyId: sessionId }, 'ended_by_owner');
    }
    if (ended === 0) throw new SessionNotFound('no live session of yours has this id: list them with GET /api/v1/auth/sessions');
    await recordAudit(trx, {
      action: 'session.ended',
      actor: `user:${caller.userId}`,
      subject: `user:${caller.userId}`,
      clientIp,
      data: { session_id: sessionId, kind: sessionId.startsWith('browser:') ? 'browser' : 'api' },
    });
    return { session_id: sessionId, ended_current: sessionId === caller.sessionId };
  });
}
