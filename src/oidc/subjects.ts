/**
 * Pairwise subject identifiers (OpenID Connect Core §8.1): each service sees a person under its own `sub`, so two
 * services cannot correlate people through Ringfence. The identifier is a deterministic authenticated encryption of
 * the user id bound to the service (a synthetic IV — HMAC of the service and the person — then AES-256-GCM with the
 * client id as associated data): the same person always has the same `sub` at one service, different ones at
 * different services, and Ringfence turns a `sub` a service sends back into the person without a lookup table,
 * refusing one that was forged or belongs to another service. Services registered before pairwise subjects keep
 * the `public` subject, the user id (services.subject_type).
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { Keyring } from '../crypto/envelope.ts';
import { safeEqual } from '../crypto/tokens.ts';
import type { Queryable } from '../store/db.ts';

/** A service as its subjects are computed: its client id and subject type. */
export interface SubjectService {
  clientId: string;
  subjectType: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const keysOf = new WeakMap<Keyring, { iv: Buffer; enc: Buffer }>();

function keys(keyring: Keyring) {
  let k = keysOf.get(keyring);
  if (!k) {
    k = { iv: keyring.derive('pairwise-subject-iv'), enc: keyring.derive('pairwise-subject') };
    keysOf.set(keyring, k);
  }
  return k;
}

function syntheticIv(keyring: Keyring, clientId: string, accountId: string): Buffer {
  return createHmac('sha256', keys(keyring).iv).update(`${clientId}\u0000${accountId.toLowerCase()}`).digest().subarray(0, 12);
}

/** The pairwise `sub` of the person `accountId` (a user id) at the service `clientId`. */
export function pairwiseSubject(keyring: Keyring, clientId: string, accountId: string): string {
  const iv = syntheticIv(keyring, clientId, accountId);
  const cipher = createCipheriv('aes-256-gcm', keys(keyring).enc, iv);
  cipher.setAAD(Buffer.from(clientId));
  const body = Buffer.concat([cipher.update(Buffer.from(accountId.replaceAll('-', ''), 'hex')), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The person a pairwise `sub` names at the service `clientId`, or undefined when it is not one of its subjects. */
function accountOfPairwise(keyring: Keyring, clientId: string, sub: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{59}$/.test(sub)) return undefined;
  const raw = Buffer.from(sub, 'base64url');
  if (raw.length !== 44) return undefined;
  const iv = raw.subarray(0, 12);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys(keyring).enc, iv);
    decipher.setAAD(Buffer.from(clientId));
    decipher.setAuthTag(raw.subarray(28));
    const hex = Buffer.concat([decipher.update(raw.subarray(12, 28)), decipher.final()]).toString('hex');
    const accountId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    // The IV is the identifier's own check: only Ringfence's computation of this person at this service yields it.
    return safeEqual(iv.toString('hex'), syntheticIv(keyring, clientId, accountId).toString('hex')) ? accountId : undefined;
  } catch {
    return undefined;
  }
}

/** The `sub` the service sees the person under: pairwise, or the user id for a `public` service. */
export function subjectOf(keyring: Keyring, service: SubjectService, accountId: string): string {
  return service.subjectType === 'public' ? accountId : pairwiseSubject(keyring, service.clientId, accountId);
}

/** The person (user id) a service names by the `sub` it was given, or undefined when it names nobody it knows. */
function accountOf(keyring: Keyring, service: SubjectService, sub: string): string | undefined {
  if (service.subjectType === 'public') return UUID.test(sub) ? sub.toLowerCase() : undefined;
  return accountOfPairwise(keyring, service.clientId, sub);
}

async function subjectService(db: Queryable, clientId: string): Promise<SubjectService | undefined> {
  const row = (await db('services').where({ client_id: clientId }).first('client_id', 'subject_type')) as
    | { client_id: string; subject_type: string }
    | undefined;
  return row ? { clientId: row.client_id, subjectType: row.subject_type } : undefined;
}

/**
 * The `sub` under which the service `clientId` knows the person `accountId` — in ID tokens, userinfo, the data API,
 * documents and events alike. Throws for an unknown service.
 */
export async function subjectFor(deps: { db: Queryable; keyring: Keyring }, clientId: string, accountId: string): Promise<string> {
  const service = await subjectService(deps.db, clientId);
  if (!service) throw new Error(`no service with client_id ${clientId}`);
  return subjectOf(deps.keyring, service, accountId);
}

/** The inverse of subjectFor: the user id a service names by its `sub`, or undefined (unknown service, or not its subject). */
export async function accountForSubject(deps: { db: Queryable; keyring: Keyring }, clientId: string, sub: string): Promise<string | undefined> {
  const service = await subjectService(deps.db, clientId);
  return service ? accountOf(deps.keyring, service, sub) : undefined;
}
