/**
 * The registry of third-party services: each is an OIDC client with exactly one role from policies/roles. Client
 * secrets are 256-bit random values shown once and stored as SHA-256 hashes; a disabled service is unknown to the
 * provider from that moment.
 */
import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Queryable } from '../store/db.ts';
import { hashToken, newToken } from '../crypto/tokens.ts';
import { InvalidService, NotFound, ServiceNotFound, type ErrorDetail } from '../errors.ts';

export interface ServiceInput {
  name: string;
  role: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  scope?: string;
  webhookUrl?: string;
  backchannelLogoutUri?: string;
  logoUri?: string;
  /** `pairwise` (the default: OpenID Connect Core §8.1, src/oidc/subjects.ts) or `public` (the user id). */
  subjectType?: 'pairwise' | 'public';
}

export interface Service {
  client_id: string;
  name: string;
  role: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scope: string;
  webhook_url: string | null;
  backchannel_logout_uri: string | null;
  logo_uri: string | null;
  /** How the service sees a person's `sub`: `pairwise` or `public`. */
  subject_type: string;
  created_at: Date;
  disabled_at: Date | null;
  last_used_at: Date | null;
}

interface ServiceRow extends Service {
  secret_hash: string;
}

const PUBLIC_COLUMNS = [
  'client_id',
  'name',
  'role',
  'redirect_uris',
  'post_logout_redirect_uris',
  'scope',
  'webhook_url',
  'backchannel_logout_uri',
  'logo_uri',
  'subject_type',
  'created_at',
  'disabled_at',
  'last_used_at',
] as const;

function jsonList(value: unknown): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : ((value as string[] | null) ?? []);
}

function toService(row: Service): Service {
  return {
    ...row,
    redirect_uris: jsonList(row.redirect_uris),
    post_logout_redirect_uris: jsonList(row.post_logout_redirect_uris),
  };
}

/** https anywhere; plain http only to a loopback host (native and development clients, RFC 8252). */
function checkUrl(value: string, path: string, details: ErrorDetail[], allowFragment = false): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    details.push({ path, message: `"${value}" is not an absolute URL` });
    return;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    details.push({ path, message: 'must use https (plain http is allowed only for localhost)' });
  }
  if (!allowFragment && url.hash) details.push({ path, message: 'must not contain a fragment (#…)' });
  if (url.username || url.password) details.push({ path, message: 'must not contain credentials' });
}

function validateServiceInput(input: ServiceInput, roles: ReadonlySet<string>, scopes: ReadonlySet<string>): void {
  const details: ErrorDetail[] = [];
  const name = input.name?.trim() ?? '';
  if (name.length < 1 || name.length > 120) details.push({ path: 'name', message: 'must be 1 to 120 characters' });
  // Shown on consent pages and stored as text, which cannot hold a NUL.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  else if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name))
    details.push({ path: 'name', message: 'contains control characters: send plain text' });
  if (!roles.has(input.role)) {
    details.push({ path: 'role', message: `must be one of the roles in policies/roles: ${[...roles].sort().join(', ')}` });
  }
  if (!Array.isArray(input.redirectUris) || input.redirectUris.length === 0) {
    details.push({ path: 'redirect_uris', message: 'at least one redirect URI is required' });
  } else if (input.redirectUris.length > 10) {
    details.push({ path: 'redirect_uris', message: 'at most 10 redirect URIs' });
  }
  for (const [i, u] of (input.redirectUris ?? []).entries()) checkUrl(u, `redirect_uris.${i}`, details);
  for (const [i, u] of (input.postLogoutRedirectUris ?? []).entries()) checkUrl(u, `post_logout_redirect_uris.${i}`, details);
  for (const [key, value] of [
    ['webhook_url', input.webhookUrl],
    ['backchannel_logout_uri', input.backchannelLogoutUri],
    ['logo_uri', input.logoUri],
  ] as const) {
    if (value !== undefined) checkUrl(value, key, details);
  }
  if (input.subjectType !== undefined && !['pairwise', 'public'].includes(input.subjectType)) {
    details.push({ path: 'subject_type', message: 'must be pairwise or public' });
  } else if (
    (input.subjectType ?? 'pairwise') === 'pairwise' &&
    Array.isArray(input.redirectUris) &&
    !details.some((d) => d.path.startsWith('redirect_uris'))
  ) {
    // OpenID Connect Core §8.1: redirect URIs on several hosts would need a sector_identifier_uri; Ringfence's
    // pairwise subjects are per service, so one host it is (or a public subject).
    const hosts = new Set(input.redirectUris.map((u) => URL.parse(u)?.host).filter(Boolean));
    if (hosts.size > 1) {
      details.push({
        path: 'redirect_uris',
        message: 'a pairwise service needs all its redirect URIs on one host: use one host, or subject_type public',
      });
    }
  }
  if (input.scope !== undefined) {
    const unknown = input.scope.split(' ').filter((s) => s && !scopes.has(s));
    if (unknown.length > 0) {
      details.push({ path: 'scope', message: `unknown scopes ${unknown.join(', ')}; known: ${[...scopes].sort().join(' ')}` });
    }
  }
  if (details.length > 0) {
    throw new InvalidService(`the service registration is invalid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, {
      details,
    });
  }
}

/** Registers a service; the plain client secret is in the answer only, never stored. */
export async function registerService(
  db: Queryable,
  input: ServiceInput,
  roles: ReadonlySet<string>,
  scopes: ReadonlySet<string>,
): Promise<{ service: Service; clientSecret: string }> {
  validateServiceInput(input, roles, scopes);
  const clientId = `svc_${randomBytes(16).toString('base64url')}`;
  const clientSecret = newToken(32);
  const [row] = (await db('services')
    .insert({
      client_id: clientId,
      name: input.name.trim(),
      role: input.role,
      redirect_uris: JSON.stringify(input.redirectUris),
      post_logout_redirect_uris: JSON.stringify(input.postLogoutRedirectUris ?? []),
      scope: input.scope ?? [...scopes].join(' '),
      webhook_url: input.webhookUrl ?? null,
      backchannel_logout_uri: input.backchannelLogoutUri ?? null,
      logo_uri: input.logoUri ?? null,
      subject_type: input.subjectType ?? 'pairwise',
      secret_hash: hashToken(clientSecret),
    })
    .returning(PUBLIC_COLUMNS)) as Service[];
  return { service: toService(row), clientSecret };
}

export async function findService(db: Queryable, clientId: string): Promise<Service | undefined> {
  const row = (await db('services').where({ client_id: clientId }).first(PUBLIC_COLUMNS)) as Service | undefined;
  return row ? toService(row) : undefined;
}

export async function getService(db: Queryable, clientId: string): Promise<Service> {
  const service = await findService(db, clientId);
  if (!service) throw new ServiceNotFound(`no service with client_id ${clientId}`);
  return service;
}

export async function listServices(
  db: Queryable,
  page: { limit: number; after?: string },
): Promise<{ services: Service[]; next: string | undefined }> {
  const q = db('services')
    .select(PUBLIC_COLUMNS)
    .orderBy('client_id')
    .limit(page.limit + 1);
  if (page.after) q.where('client_id', '>', page.after);
  const rows = ((await q) as Service[]).map(toService);
  const more = rows.length > page.limit;
  const services = rows.slice(0, page.limit);
  return { services, next: more ? services[services.length - 1].client_id : undefined };
}

/** Disables a service: the provider no longer knows the client, so its tokens and grants stop working at once. */
export async function disableService(db: Queryable, clientId: string): Promise<Service> {
  const updated = await db('services').where({ client_id: clientId }).whereNull('disabled_at').update({ disabled_at: db.fn.now() });
  const service = await getService(db, clientId);
  if (updated === 0 && !service.disabled_at) throw new NotFound(`no service with client_id ${clientId}`);
  return service;
}

/** The client metadata oidc-provider sees for an enabled service; undefined for unknown or disabled ones. */
export async function findServiceClientMetadata(db: Queryable, clientId: string): Promise<ClientMetadata | undefined> {
  const row = (await db('services').where({ client_id: clientId }).whereNull('disabled_at').first()) as ServiceRow | undefined;
  if (!row) return undefined;
  const service = toService(row);
  return {
    client_id: service.client_id,
    // The provider compares secrets through Client#compareClientSecret, which we make hash the presented one.
    client_secret: row.secret_hash,
    client_name: service.name,
    redirect_uris: service.redirect_uris,
    post_logout_redirect_uris: service.post_logout_redirect_uris,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: service.scope,
    subject_type: service.subject_type === 'public' ? 'public' : 'pairwise',
    ...(service.logo_uri ? { logo_uri: service.logo_uri } : {}),
    ...(service.backchannel_logout_uri ? { backchannel_logout_uri: service.backchannel_logout_uri, backchannel_logout_session_required: false } : {}),
  };
}

/** Sets (or, with null, removes) the service's webhook URL; https, or http to loopback, as at registration. */
export async function setWebhookUrl(db: Queryable, clientId: string, url: string | null): Promise<Service> {
  if (url !== null) {
    const details: ErrorDetail[] = [];
    checkUrl(url, 'webhook_url', details);
    if (details.length > 0)
      throw new InvalidService(`the webhook URL is invalid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, { details });
  }
  const updated = await db('services').where({ client_id: clientId }).update({ webhook_url: url });
  if (updated === 0) throw new ServiceNotFound(`no service with client_id ${clientId}`);
  return getService(db, clientId);
}
