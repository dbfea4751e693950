/**
 * Selective disclosure (seed API 3): a person shares chosen facts with one service as an SD-JWT VC that carries
 * only them, signed by Ringfence's issuer key; anyone can verify it offline with the published keys and status
 * list, or online at POST /verify; revoking the share sets its status bit at once.
 *
 * Issuing is a release under a share basis (src/disclosure): the policy engine decides what the service's role may
 * receive exactly as for the data API, and the release is admitted and on record before the credential exists.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../deps.ts';
import { recordAudit } from '../../audit/audit.ts';
import { publicIssuerJwk } from '../../crypto/issuer-keys.ts';
import { readProfileSnapshot, ringsOf } from '../../disclosure/snapshot.repo.ts';
import { CredentialRequired, FieldNotShareable, ServiceNotFound, ShareNotFound, StatusListNotFound, UnknownInfoField } from '../../errors.ts';
import { findService } from '../../oidc/services.ts';
import type { Db } from '../../store/db.ts';
import { withTransaction } from '../../store/db.ts';
import { pageFrom, type Page } from './pages.ts';
import { issueShareCredential, signStatusList, verifyShareCredential } from './sd-jwt.ts';
import { deleteShare, findShareByJti, insertShare, listSharesOfUser, readStatusList, revokeShareOfUser, type ShareRow } from './shares.repo.ts';

/**
 * ISO 18013-5 style age predicates that are not catalogue fields: each is computed from the released `age`, so the
 * service's role must be allowed `age` (a stricter test than the predicate needs), and only the predicate leaves.
 */
const AGE_PREDICATES: Record<string, { from: string; compute: (age: number) => boolean }> = {
  age_over_21: { from: 'age', compute: (age) => age >= 21 },
};

/** The provenance of a date of birth taken from a confirmed credential (src/features/credentials writes it). */
const VERIFIED_PREFIX = 'credential:';

/** The key shares and status lists are signed with now (the instance follows rotations: src/crypto/signing-keys.ts). */
const signingKey = (deps: Pick<AppDeps, 'issuerKeys'>) => deps.issuerKeys.active[0];

/** The issuer identifier: the instance's public URL. */
const issuerOf = (deps: Pick<AppDeps, 'config'>) => deps.config.baseUrl;
const statusListUri = (deps: Pick<AppDeps, 'config'>, listId: string) => `${deps.config.baseUrl}/api/v1/status-lists/${listId}`;

/** What an info field is released as: the catalogue field the pipeline releases, and whether it needs a verified birth date. */
export function planOf(deps: AppDeps, info: string): { release: string; fromBirthDate: boolean } {
  const catalogue = deps.policy.policies.catalogue;
  const predicate = AGE_PREDICATES[info];
  if (predicate) return { release: predicate.from, fromBirthDate: true };
  const def = catalogue.fields.get(info);
  if (!def) {
    const known = [...Object.keys(AGE_PREDICATES), ...catalogue.fields.keys()].sort().join(', ');
    throw new UnknownInfoField(`info_field "${info}" is not a profile field or an age predicate; use one of: ${known}`, {
      details: [{ path: 'info_field', message: 'is not a field that can be shared' }],
    });
  }
  return { release: info, fromBirthDate: def.derivedFrom === 'date_of_birth' };
}

/** The named scopes that cover a field: what choosing it grants the engine (the release narrows it to the field). */
export function scopesCovering(deps: AppDeps, field: string): string[] {
  const { policies } = deps.policy;
  const leaves = policies.leaves.filter((l) => policies.leafField.get(l) === field);
  return [...policies.scopes.values()].filter((s) => leaves.some((l) => s.leaves.has(l))).map((s) => s.name);
}

/** Whether the person's date of birth comes from a confirmed credential. */
async function birthDateVerified(db: Db, userId: string): Promise<boolean> {
  const row = (await db('profile_fields as f')
    .join('profiles as p', 'p.id', 'f.profile_id')
    .where({ 'p.user_id': userId, 'f.field': 'date_of_birth' })
    .whereNotNull('f.value')
    .first('f.provenance')) as { provenance: string } | undefined;
  return row?.provenance.startsWith(VERIFIED_PREFIX) ?? false;
}

export interface IssuedShare {
  share_id: string;
  verification_token: string;
  expires_at: string;
  fields: string[];
}

/**
 * Issues a share of `fields` (info fields) for a service: checks them against the policy for the service's role
 * and the person's rings, takes derived age facts only from a verified birth date, records the share and its
 * release, then signs the credential. `requestId` ties it to the request it answers.
 */
export async function issueShare(
  deps: AppDeps,
  input: { userId: string; clientId: string; fields: readonly string[]; clientIp: string; requestId?: string },
): Promise<IssuedShare> {
  const service = await findService(deps.db, input.clientId);
  if (!service || service.disabled_at) throw new ServiceNotFound(`there is no service ${input.clientId}`);
  const plans = input.fields.map((f) => ({ info: f, ...planOf(deps, f) }));
  if (plans.some((p) => p.fromBirthDate) && !(await birthDateVerified(deps.db, input.userId))) {
    throw new CredentialRequired(
      'age facts come only from a verified date of birth: add a credential (POST /api/v1/profile/add-credential) and confirm it first',
    );
  }
  const release = [...new Set(plans.map((p) => p.release))];
  const scopes = [...new Set(release.flatMap((f) => scopesCovering(deps, f)))].sort();
  const reader = { kind: 'service' as const, clientId: service.client_id, role: service.role };
  // The engine's answer before anything is written: a field the role may not receive is refused with no share made.
  const snapshot = await readProfileSnapshot(deps.db, input.userId);
  const allowed = snapshot ? new Set(deps.policy.engine.decide(reader, ringsOf(snapshot), { scopes }).fields.map((f) => f.split('.')[0])) : new Set();
  const refused = release.filter((f) => !allowed.has(f));
  if (refused.length > 0) {
    throw new FieldNotShareable(
      `the policy does not let ${service.role} services receive ${refused.join(', ')}, or you have placed it out of their reach`,
      {
        details: refused.map((f) => ({ path: 'info_field', message: `${f} is not released to role ${service.role}` })),
      },
    );
  }
  // Nothing to share is no share: a field with no value (or a derived one without its source) is refused unwritten.
  const catalogue = deps.policy.policies.catalogue;
  const stored = new Set(snapshot?.fields.filter((f) => f.sealed !== null).map((f) => f.field));
  const empty = release.filter((f) => !stored.has(catalogue.fields.get(f)?.derivedFrom ?? f));
  if (empty.length > 0) {
    throw new FieldNotShareable(`your profile has no value to share for ${empty.join(', ')}: set it first`, {
      details: empty.map((f) => ({ path: 'info_field', message: `${f} has no value` })),
    });
  }

  const shareId = randomUUID();
  const jti = randomUUID();
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + deps.config.shareTokenTtlSeconds * 1000);
  const status = await withTransaction(deps.db, (trx) =>
    insertShare(trx, {
      id: shareId,
      userId: input.userId,
      clientId: service.client_id,
      fields: input.fields,
      jti,
      expiresAt,
      requestId: input.requestId,
    }),
  );
  let values: Record<string, unknown>;
  try {
    ({ values } = await deps.disclosure.release({
      reader,
      subject: input.userId,
      basis: { kind: 'share', shareId, clientId: service.client_id, scopes },
      fields: release,
      snapshot,
      clientIp: input.clientIp,
      via: 'share',
      // A release that finds nothing (the person changed a ring since the check) issues nothing, and is no record.
      record: 'if-released',
    }));
  } catch (err) {
    await deleteShare(deps.db, shareId);
    throw err;
  }
  const missing = release.filter((f) => values[f] === undefined || values[f] === null);
  if (missing.length > 0) {
    // The person's settings changed since the check: nothing is issued.
    await deleteShare(deps.db, shareId);
    throw new FieldNotShareable(`your profile has no value to share for ${missing.join(', ')}`, {
      details: missing.map((f) => ({ path: 'info_field', message: `${f} has no value` })),
    });
  }
  const claims = Object.fromEntries(
    plans.map((p) => [p.info, AGE_PREDICATES[p.info] ? AGE_PREDICATES[p.info].compute(Number(values[p.release])) : values[p.release]]),
  );
  const token = await issueShareCredential(signingKey(deps), {
    issuer: issuerOf(deps),
    clientId: service.client_id,
    jti,
    issuedAt,
    expiresAt,
    status: { idx: status.statusIdx, uri: statusListUri(deps, status.statusListId) },
    claims,
  });
  return { share_id: shareId, verification_token: token, expires_at: expiresAt.toISOString(), fields: [...input.fields] };
}

export interface ShareView {
  share_id: string;
  service_id: string;
  service_name: string;
  fields: string[];
  state: 'active' | 'revoked' | 'expired';
  request_id: string | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

function viewOf(row: ShareRow & { service_name?: string }, now = Date.now()): ShareView {
  return {
    share_id: row.id,
    service_id: row.client_id,
    service_name: row.service_name ?? row.client_id,
    fields: row.fields,
    state: row.revoked_at ? 'revoked' : new Date(row.expires_at).getTime() <= now ? 'expired' : 'active',
    request_id: row.request_id,
    created_at: new Date(row.created_at).toISOString(),
    expires_at: new Date(row.expires_at).toISOString(),
    revoked_at: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
  };
}

/** A page of the person's shares, newest first (names of fields, never values). */
export async function listShares(deps: AppDeps, userId: string, page: Page): Promise<{ shares: ShareView[]; next_cursor: string | null }> {
  const { rows, next_cursor } = pageFrom(await listSharesOfUser(deps.db, userId, page.limit + 1, page.after), page.limit);
  return { shares: rows.map((r) => viewOf(r)), next_cursor };
}

/** Revokes one of the person's shares: its status bit reads revoked from this commit on. */
export async function revokeShare(deps: AppDeps, userId: string, shareId: string, clientIp: string): Promise<ShareView> {
  return withTransaction(deps.db, async (trx) => {
    // The share's row locked by the update before the chain's lock (recordAudit), as a release's admission does.
    const row = await revokeShareOfUser(trx, userId, shareId);
    if (!row) throw new ShareNotFound('you have no share with this id');
    await recordAudit(trx, {
      action: 'share.revoked',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { share_id: row.id, client_id: row.client_id },
    });
    return viewOf(row);
  });
}

/** The SD-JWT VC issuer metadata (draft-ietf-oauth-sd-jwt-vc, JWT VC Issuer Metadata). */
export function issuerMetadata(deps: AppDeps): Record<string, unknown> {
  return { issuer: issuerOf(deps), jwks_uri: `${deps.config.baseUrl}/api/v1/issuer/jwks.json` };
}

/** The issuer's public keys: the active one, a pending one (published before it signs), those retired but kept. */
export async function issuerJwks(deps: AppDeps): Promise<{ keys: ReturnType<typeof publicIssuerJwk>[] }> {
  return { keys: deps.issuerKeys.published.map(publicIssuerJwk) };
}

/** A status list, signed now; undefined when there is no such list. */
export async function statusListJwt(deps: AppDeps, listId: string): Promise<{ jwt: string; revision: string }> {
  const list = await readStatusList(deps.db, listId);
  if (!list) throw new StatusListNotFound('there is no status list with this id');
  const key = signingKey(deps);
  const jwt = await signStatusList(key, {
    issuer: issuerOf(deps),
    uri: statusListUri(deps, listId),
    size: list.size,
    revoked: list.revoked,
    ttlSeconds: deps.config.shareStatusTtlSeconds,
  });
  // What the list says (its bits) under which key: equal revisions are equal answers but for their iat.
  return { jwt, revision: `${key.kid}.${list.revoked.length}.${list.revoked.join(',')}` };
}

export interface Verification {
  valid: boolean;
  revoked: boolean;
  claims: Record<string, unknown>;
  issued_at: string | null;
  expires_at: string | null;
  service_id: string | null;
  reason?: string;
}

/** Verifies a credential online: signature, disclosures and expiry with the published keys, its status from the store. */
export async function verifyToken(deps: AppDeps, token: string): Promise<Verification> {
  const refusal = (reason: string): Verification => ({
    valid: false,
    revoked: false,
    claims: {},
    issued_at: null,
    expires_at: null,
    service_id: null,
    reason,
  });
  let verified: Awaited<ReturnType<typeof verifyShareCredential>>;
  try {
    verified = await verifyShareCredential(deps.issuerKeys.published.map(publicIssuerJwk), token).catch(async (err) => {
      // Every key signs only after every instance has published it; a kid unknown here is read again once anyway
      // (this instance may have been paused past a notice and its poll).
      if (!/signature/i.test((err as Error).message)) throw err;
      await deps.issuerKeys.refresh();
      return verifyShareCredential(deps.issuerKeys.published.map(publicIssuerJwk), token);
    });
  } catch (err) {
    const message = (err as Error).message;
    return refusal(
      /exp/i.test(message)
        ? 'the token has expired'
        : /signature/i.test(message)
          ? 'the signature does not verify with the published keys'
          : 'this is not a valid Ringfence share token',
    );
  }
  const { payload, claims } = verified;
  if (payload.iss !== issuerOf(deps)) return refusal('the token was issued by another issuer');
  const share = typeof payload.jti === 'string' ? await findShareByJti(deps.db, payload.jti) : undefined;
  const revoked = !share || share.revoked_at !== null;
  return {
    valid: !revoked,
    revoked,
    claims,
    issued_at: new Date(Number(payload.iat) * 1000).toISOString(),
    expires_at: new Date(Number(payload.exp) * 1000).toISOString(),
    service_id: typeof payload.aud === 'string' ? payload.aud : null,
    ...(revoked ? { reason: 'the person has revoked this share' } : {}),
  };
}
