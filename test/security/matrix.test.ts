/**
 * The authorization matrix (issue 7): every operation of openapi.yaml is called by every kind of caller — no
 * credential, an expired session token, a revoked one, another user's, a service token of each role (real ones,
 * from the authorization code flow in a browser), a service token another person granted, an operator, and the
 * owner — with the owner's identifiers in the path and body. The expected outcome comes from the operation's
 * `security` in the spec (and "(operators only)" for the admin API); what a service may read comes from the
 * policy files. No caller but the owner may read the owner's data (the response bodies are searched for the
 * owner's identifiers and values) or change it (the owner's rows are compared before and after).
 */
import test from 'ava';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Operation } from '../../src/http/openapi.ts';
import { hashToken } from '../../src/crypto/tokens.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import { spec, useTestApp } from '../helpers/app.ts';
import { useBrowser } from '../helpers/browser.ts';
import { grantService, subjectAt, useCallback } from '../helpers/oidc.ts';
import { multipartBody, send, type RawResponse } from './http.ts';
import { recordSecrets, secretValues } from './secrets.ts';
import { licencePhoto } from '../credentials/fixtures.ts';

const POLICIES = new URL('../../policies/', import.meta.url).pathname;

interface Person {
  tag: string;
  email: string;
  handle: string;
  password: string;
  userId: string;
  profileId: string;
  token: string;
  refreshToken: string;
  /** Values nobody but this person may be shown, and identifiers only they know. */
  privateMarkers: Map<string, string>;
  /** Values this person keeps public: the directory may show them to anyone. */
  publicMarkers: Map<string, string>;
}

interface ServiceCaller {
  role: string;
  clientId: string;
  token: string;
  /** The `sub` this service knows its person by (pairwise). */
  sub: string;
  person: 'owner' | 'other';
  scopes: string[];
}

interface World {
  owner: Person;
  other: Person;
  operator: Person;
  expired: string;
  revoked: string;
  services: ServiceCaller[];
  /** A service the owner granted only so that revoke-access has something to revoke. */
  revocable: string;
  /** A service the admin API may read and disable. */
  adminTarget: string;
  ringId: string;
  privateStatusId: string;
  publicStatusId: string;
  png: Buffer;
}

type Who = 'none' | 'expired' | 'revoked' | 'other' | 'operator' | 'owner' | `svc:${string}`;

interface Req {
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  multipart?: { name: string; filename?: string; type?: string; data: Buffer | string }[];
  yaml?: string;
}

interface Fixture {
  request(w: World, as: Who): Req | Promise<Req>;
  /** Puts in place what the call needs (e.g. something to delete); runs before every call. */
  before?(w: World, as: Who): Promise<void>;
  /** The call ends sessions or changes a password: every credential is renewed after it. */
  endsSessions?: boolean;
  /** The outcome for anyone, on operations whose security is none (and for the public on optional ones). */
  public?: number[];
  /** The outcome for another signed-in user acting on the owner's identifiers, when it is not success on their own data. */
  other?: number[];
  /** The owner's outcome, when it is not success. */
  owner?: number[];
}

const app = useTestApp({ smtp: true });
const browser = useBrowser();
const callback = useCallback();
let world: World;

async function http(method: string, path: string, token?: string, body?: Partial<Req>) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: Buffer | string | undefined;
  if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body?.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(body.form).toString();
  } else if (body?.multipart) {
    const m = multipartBody(body.multipart);
    headers['content-type'] = m.type;
    payload = m.body;
  } else if (body?.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    payload = body.yaml;
  }
  const res = await send(app.url, { method, path, headers, body: payload });
  if (res.json) recordSecrets('security-matrix', ...secretValues(res.json));
  return res;
}

async function login(p: Person): Promise<void> {
  const res = await http('POST', '/api/v1/users/login', undefined, { json: { email: p.email, password: p.password } });
  if (res.status !== 200) throw new Error(`login of ${p.handle} failed: ${res.status} ${res.text}`);
  const body = res.json as { token: string; refresh_token: string };
  p.token = body.token;
  p.refreshToken = body.refresh_token;
  recordSecrets('security-matrix', p.token, p.refreshToken);
}

async function newSessionToken(p: Person): Promise<string> {
  const res = await http('POST', '/api/v1/users/login', undefined, { json: { email: p.email, password: p.password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.text}`);
  const token = (res.json as { token: string }).token;
  recordSecrets('security-matrix', token, (res.json as { refresh_token: string }).refresh_token);
  return token;
}

/** Fresh tokens for everyone, an owner's token made to expire (in the database) and one revoked by logout. */
async function renewCredentials(w: World): Promise<void> {
  for (const p of [w.owner, w.other, w.operator]) await login(p);
  w.expired = await newSessionToken(w.owner);
  await app.service.deps
    .db('sessions')
    .where({ access_hash: hashToken(w.expired) })
    .update({ access_expires_at: new Date(Date.now() - 60_000) });
  w.revoked = await newSessionToken(w.owner);
  const out = await http('POST', '/api/v1/auth/logout', w.revoked);
  if (out.status !== 200) throw new Error(`logout failed: ${out.text}`);
}

async function registerPerson(label: string, extra: Record<string, unknown>): Promise<Person> {
  const tag = randomBytes(5).toString('hex');
  const password = `matrix ${label} passphrase ${tag}`;
  const email = `${label}.${tag}@example.org`;
  const handle = `${label}_${tag}`;
  const res = await http('POST', '/api/v1/users/register', undefined, { json: { name: `${label} Marker${tag}`, email, handle, password } });
  if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
  const body = res.json as { user_id: string; profile_id: string; token: string; refresh_token: string };
  recordSecrets('security-matrix', password, body.token, body.refresh_token);
  const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const contactPhone = `+1666${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const fields = {
    bio: `bio-${tag}`,
    phone,
    employer: `Employer ${tag}`,
    home_address: { street_address: `${tag} Marker Street`, locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z1', country: 'CA' },
    date_of_birth: '1971-03-14',
    blood_type: 'O-',
    allergies: [`allergy-${tag}`],
    emergency_contact: { name: `Contact ${tag}`, phone: contactPhone },
    passport_number: `P${tag}`,
    ...extra,
  };
  const update = await http('PUT', '/api/v1/profile/update-info', body.token, { json: { updated_fields: fields } });
  if (update.status !== 200) throw new Error(`update failed: ${update.text}`);
  return {
    tag,
    email,
    handle,
    password,
    userId: body.user_id,
    profileId: body.profile_id,
    token: body.token,
    refreshToken: body.refresh_token,
    privateMarkers: new Map([
      ['email', email],
      ['name', `${label} Marker${tag}`],
      ['phone', phone],
      ['employer', `Employer ${tag}`],
      ['home_address', `${tag} Marker Street`],
      ['allergies', `allergy-${tag}`],
      ['emergency_contact', `Contact ${tag}`],
      ['passport_number', `P${tag}`],
      ['user_id', body.user_id],
      ['profile_id', body.profile_id],
    ]),
    publicMarkers: new Map([
      ['handle', handle],
      ['bio', `bio-${tag}`],
    ]),
  };
}

/** Every status of a default ring, and the services' roles: read from the policy files themselves. */
function policyFiles() {
  const rings = (YAML.parse(readFileSync(`${POLICIES}rings.yaml`, 'utf8')) as { rings: { name: string }[] }).rings.map((r) => r.name);
  const fields = (YAML.parse(readFileSync(`${POLICIES}fields.yaml`, 'utf8')) as { fields: Record<string, { ring: string }> }).fields;
  const roles = new Map<string, { ceiling: string; deny: string[] }>();
  for (const file of readdirSync(`${POLICIES}roles`).filter((f) => f.endsWith('.yaml'))) {
    const doc = YAML.parse(readFileSync(`${POLICIES}roles/${file}`, 'utf8')) as { role: string; ceiling: string; rules: { deny?: string[] }[] };
    roles.set(doc.role, { ceiling: doc.ceiling, deny: doc.rules.flatMap((r) => r.deny ?? []) });
  }
  return { rank: (ring: string) => rings.indexOf(ring), fields, roles };
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

const PNG_1x1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

async function ensureAvatar(w: World): Promise<void> {
  const res = await http('PUT', '/api/v1/profile/avatar', w.owner.token, {
    multipart: [{ name: 'avatar', filename: 'a.png', type: 'image/png', data: w.png }],
  });
  if (res.status !== 200) throw new Error(`avatar upload failed: ${res.text}`);
}

async function newOwnerRing(w: World): Promise<string> {
  const res = await http('POST', '/api/v1/profile/privilege-rings', w.owner.token, {
    json: { ring_name: `Doomed ${randomBytes(3).toString('hex')}`, assigned_data: { fields: ['occupation'], roles: ['healthcare'] } },
  });
  if (res.status !== 201) throw new Error(`ring failed: ${res.text}`);
  return (res.json as { ring_id: string }).ring_id;
}

async function newOwnerStatus(w: World): Promise<string> {
  const res = await http('POST', '/api/v1/profile/statuses', w.owner.token, { json: { content: 'to be deleted', ring: 'private' } });
  if (res.status !== 201) throw new Error(`status failed: ${res.text}`);
  return (res.json as { post: { status_id: string } }).post.status_id;
}

const bogusUid = () => randomBytes(16).toString('base64url');

let ownerShareId = '';
let ownerShareStatusUri = '';
/** A share the owner made (once), for revocation and its status list: the status list's URI. */
async function ownerShare(w: World): Promise<string> {
  if (!ownerShareId) {
    const res = await http('POST', '/api/v1/profile/share-create', w.owner.token, {
      json: { service_id: w.services[0].clientId, info_field: 'handle' },
    });
    if (res.status !== 201) throw new Error(`share failed: ${res.text}`);
    const body = res.json as { share_id: string; verification_token: string };
    ownerShareId = body.share_id;
    const payload = JSON.parse(Buffer.from(body.verification_token.split('.')[1], 'base64url').toString());
    ownerShareStatusUri = payload.status.status_list.uri;
  }
  return ownerShareStatusUri;
}

let ownerRequestId = '';
/** A new pending request of a commercial service to the owner (as the service would make it), before each call. */
async function ownerRequest(w: World): Promise<void> {
  ownerRequestId = randomUUID();
  await app.service.deps.db('share_requests').insert({
    id: ownerRequestId,
    user_id: w.owner.userId,
    client_id: w.services[0].clientId,
    fields: JSON.stringify(['handle']),
    purpose: 'matrix',
    state: 'pending',
    expires_at: new Date(Date.now() + 3600_000),
  });
}

/** Documents (issue 16): one per service, shared with it by its person; one of the owner's to read, one to delete. */
const sharedDocs = new Map<string, string>();
let ownerDoc = '';
let doomedDoc = '';
let replayable = '';
async function newDocument(token: string, services: string[]): Promise<string> {
  const res = await http('POST', '/api/v1/profile/documents', token, {
    json: { kind: 'other', title: 'Matrix document', fields: { note: 'matrix' }, references: [], roles: ['government'], services },
  });
  if (res.status !== 201) throw new Error(`document failed: ${res.text}`);
  return (res.json as { document: { document_id: string } }).document.document_id;
}
async function sharedDocFor(w: World, as: Who): Promise<string> {
  ownerDoc ||= await newDocument(w.owner.token, []);
  if (!as.startsWith('svc:')) return ownerDoc;
  const svc = w.services[Number(as.slice(4))];
  if (!sharedDocs.has(svc.clientId))
    sharedDocs.set(svc.clientId, await newDocument(svc.person === 'owner' ? w.owner.token : w.other.token, [svc.clientId]));
  return sharedDocs.get(svc.clientId)!;
}
let doomedRing = '';
let doomedStatus = '';

const HEALTH_RECORD = {
  resourceType: 'Immunization',
  status: 'completed',
  vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '207' }] },
  patient: { reference: 'Patient/matrix' },
  occurrenceDateTime: '2021-05-10',
};
/** A record or link of the owner's for the operations that name one; made again once the owner deleted it. */
const healthOfOwner = { record: '', doomedRecord: '', doomedLink: '' };

async function ownerHealthRecord(w: World): Promise<string> {
  const res = await http('POST', '/api/v1/profile/health-records', w.owner.token, { json: HEALTH_RECORD });
  if (res.status !== 201) throw new Error(`health record failed: ${res.text}`);
  return (res.json as { record: { record_id: string } }).record.record_id;
}

async function ensureHealth(w: World): Promise<void> {
  const db = app.service.deps.db;
  if (!healthOfOwner.record) healthOfOwner.record = await ownerHealthRecord(w);
  if (!healthOfOwner.doomedRecord || !(await db('health_records').where({ id: healthOfOwner.doomedRecord }).first()))
    healthOfOwner.doomedRecord = await ownerHealthRecord(w);
  if (!healthOfOwner.doomedLink || (await db('health_links').where({ id: healthOfOwner.doomedLink }).first())?.revoked_at) {
    const res = await http('POST', '/api/v1/profile/share-create-link', w.owner.token, {
      json: { health_records_info: { record_ids: [healthOfOwner.record] }, doctor_email: 'dr.matrix@clinic.example' },
    });
    if (res.status !== 201) throw new Error(`health link failed: ${res.text}`);
    healthOfOwner.doomedLink = (res.json as { link_id: string }).link_id;
  }
}

let licence: Buffer | undefined;
let ownerCredential = '';

/** A pending credential of the owner, from a real licence photo (made once); `fresh` adds a new one. */
async function ensureCredential(w: World, fresh = false): Promise<void> {
  if (ownerCredential && !fresh) return;
  licence ??= await licencePhoto(
    {
      family: 'OWNER',
      given: 'MATRIX',
      dob: '1971-03-14',
      sex: '9',
      street: '1 TEST ST',
      city: 'SACRAMENTO',
      region: 'CA',
      postal: '958140000',
      country: 'USA',
      number: 'M7654321',
      issued: '2022-01-01',
      expires: '2031-01-01',
    },
    {},
    { tilt: 6 },
  );
  const res = await http('POST', '/api/v1/profile/add-credential', w.owner.token, {
    multipart: [
      { name: 'credential_type', data: "Driver's License" },
      { name: 'credential_image', filename: 'licence.jpg', type: 'image/jpeg', data: licence },
    ],
  });
  if (res.status !== 201) throw new Error(`add-credential failed: ${res.text}`);
  ownerCredential = (res.json as { credential_id: string }).credential_id;
}

/** The signed-in caller's session token, for the emergency fixtures that prepare the caller's own setup. */
function sessionOf(w: World, as: Who): string | undefined {
  return as === 'owner' ? w.owner.token : as === 'other' ? w.other.token : as === 'operator' ? w.operator.token : undefined;
}

const EMERGENCY_SETUP = {
  trusted_contacts: [],
  emergency_info: { blood_type: 'A+', profile_fields: ['emergency_contact'] },
  criteria: ['unconsciousness'],
};

/** The caller has an emergency setup (signed-in callers only; the others are refused before it matters). */
async function ensureEmergencySetup(w: World, as: Who): Promise<void> {
  const token = sessionOf(w, as);
  if (!token) return;
  const res = await http('POST', '/api/v1/profile/emergency-access', token, { json: EMERGENCY_SETUP });
  if (res.status !== 201 && res.status !== 409) throw new Error(`emergency setup failed: ${res.text}`);
}

/** The caller has no emergency setup. */
async function dropEmergencySetup(w: World, as: Who): Promise<void> {
  const token = sessionOf(w, as);
  if (token) await http('DELETE', '/api/v1/profile/emergency-access', token);
}

/** How to call each operation with the owner's identifiers. A new operation must be added here: the test says so. */
const FIXTURES: Record<string, Fixture> = {
  getHealth: { request: () => ({ path: '/healthz' }), public: [200] },
  getReadiness: { request: () => ({ path: '/readyz' }), public: [200] },
  getOpenApiDocument: { request: () => ({ path: '/openapi.yaml' }), public: [200] },
  getApiReference: { request: () => ({ path: '/docs' }), public: [200] },
  getApiReferenceAsset: { request: () => ({ path: '/docs/assets/swagger-ui.css' }), public: [200] },
  getProtectedResourceMetadata: { request: () => ({ path: '/.well-known/oauth-protected-resource/api/v1/data' }), public: [200] },
  registerUser: {
    request: () => {
      const tag = randomBytes(5).toString('hex');
      return {
        path: '/api/v1/users/register',
        json: { name: 'New Person', email: `new.${tag}@example.org`, handle: `new_${tag}`, password: `a long new passphrase ${tag}` },
      };
    },
    public: [201],
  },
  // The bearer is ignored by the public account operations; their bodies name what they act on.
  loginUser: {
    request: () => ({
      path: '/api/v1/users/login',
      json: { email: `nobody.${randomBytes(4).toString('hex')}@example.org`, password: 'not the password at all' },
    }),
    public: [401],
  },
  refreshSession: {
    request: () => ({ path: '/api/v1/auth/refresh', json: { refresh_token: randomBytes(32).toString('base64url') } }),
    public: [401],
  },
  verifySession: { request: () => ({ path: '/api/v1/auth/verify', json: { token: randomBytes(32).toString('base64url') } }), public: [200] },
  forgotPassword: { request: (w) => ({ path: '/api/v1/auth/forgot-password', json: { email: w.owner.email } }), public: [202] },
  resetPassword: {
    request: () => ({
      path: '/api/v1/auth/reset-password',
      json: { token: randomBytes(32).toString('base64url'), new_password: 'a new password nobody knows' },
    }),
    public: [400],
  },
  logout: {
    // Another user sends the owner's refresh token along: only their own session may end.
    request: (w, as) => ({ path: '/api/v1/auth/logout', json: as === 'owner' ? {} : { refresh_token: w.owner.refreshToken } }),
    endsSessions: true,
  },
  logoutAll: { request: () => ({ path: '/api/v1/auth/logout-all', json: {} }), endsSessions: true },
  getCurrentUser: { request: () => ({ path: '/api/v1/auth/me' }) },
  verifyEmail: {
    // Everyone sends the owner's code; only the owner's own pending code can match.
    request: async (w) => ({ path: '/api/v1/auth/verify-email', json: { code: await latestCode(w.owner) } }),
    other: [400],
  },
  resendVerificationEmail: {
    before: async () => {
      await app.service.deps.db('email_verifications').update({ sent_at: new Date(Date.now() - 5 * 60_000) });
    },
    request: () => ({ path: '/api/v1/auth/verify-email/resend', json: {} }),
    // The owner verified their address just before (verifyEmail); the other person has not.
    owner: [409],
    other: [200],
  },
  changePassword: {
    request: (w, as) => {
      const p = as === 'owner' ? w.owner : as === 'operator' ? w.operator : w.other;
      return { path: '/api/v1/auth/password', json: { current_password: p.password, new_password: `${p.password} v2` } };
    },
    endsSessions: true,
  },
  getProfile: { request: () => ({ path: '/api/v1/profile' }) },
  updateProfileInfo: { request: () => ({ path: '/api/v1/profile/update-info', json: { updated_fields: { locale: 'en-CA' } } }) },
  uploadAvatar: {
    request: (w) => ({ path: '/api/v1/profile/avatar', multipart: [{ name: 'avatar', filename: 'a.png', type: 'image/png', data: w.png }] }),
  },
  deleteAvatar: {
    before: async (w, as) => (as === 'owner' ? ensureAvatar(w) : undefined),
    request: () => ({ path: '/api/v1/profile/avatar' }),
    other: [200, 404],
  },
  listStatuses: { request: () => ({ path: '/api/v1/profile/statuses' }) },
  createStatus: { request: () => ({ path: '/api/v1/profile/statuses', json: { content: 'a status from the matrix' } }) },
  updateStatus: { request: (w) => ({ path: `/api/v1/profile/statuses/${w.privateStatusId}`, json: { ring: 'private' } }), other: [404] },
  deleteStatus: {
    before: async (w) => {
      doomedStatus ||= await newOwnerStatus(w);
    },
    request: () => ({ path: `/api/v1/profile/statuses/${doomedStatus}` }),
    other: [404],
  },
  listPublicProfiles: { request: () => ({ path: '/api/v1/profiles?limit=100' }), public: [200] },
  getPublicProfile: { request: (w) => ({ path: `/api/v1/profiles/${w.owner.handle}` }), public: [200] },
  getAvatar: { before: async (w) => ensureAvatar(w), request: (w) => ({ path: `/api/v1/profiles/${w.owner.handle}/avatar` }), public: [404] },
  listPublicStatuses: { request: (w) => ({ path: `/api/v1/profiles/${w.owner.handle}/statuses` }), public: [200] },
  listPrivilegeRings: { request: () => ({ path: '/api/v1/profile/privilege-rings' }) },
  createPrivilegeRing: {
    request: () => ({
      path: '/api/v1/profile/privilege-rings',
      json: { ring_name: `Matrix ${randomBytes(3).toString('hex')}`, assigned_data: { fields: ['website'] } },
    }),
  },
  getRingPolicy: { request: () => ({ path: '/api/v1/profile/privilege-rings/policy' }) },
  replaceRingPolicy: {
    // The owner puts back exactly what they have; anyone else puts an empty policy, which may only touch their own.
    request: async (w, as) => {
      if (as !== 'owner') return { path: '/api/v1/profile/privilege-rings/policy', yaml: 'version: 1\n' };
      const current = await http('GET', '/api/v1/profile/privilege-rings/policy', w.owner.token);
      return { path: '/api/v1/profile/privilege-rings/policy', yaml: current.text };
    },
  },
  getPrivilegeRing: { request: (w) => ({ path: `/api/v1/profile/privilege-rings/${w.ringId}` }), other: [404] },
  updatePrivilegeRing: {
    request: (w) => ({
      path: `/api/v1/profile/privilege-rings/${w.ringId}`,
      json: { assigned_data: { fields: ['allergies'], roles: ['healthcare'] } },
    }),
    other: [404],
  },
  deletePrivilegeRing: {
    before: async (w) => {
      doomedRing ||= await newOwnerRing(w);
    },
    request: () => ({ path: `/api/v1/profile/privilege-rings/${doomedRing}` }),
    other: [404],
  },
  getVisibility: { request: () => ({ path: '/api/v1/profile/visibility' }) },
  // The interaction pages are the provider's browser flow: their credential is its cookie, not a bearer token.
  showInteraction: { request: () => ({ path: `/interaction/${bogusUid()}` }), public: [400] },
  submitInteractionLogin: {
    request: (w) => ({ path: `/interaction/${bogusUid()}/login`, form: { csrf: 'x', login: w.owner.handle, password: w.owner.password } }),
    public: [400],
  },
  submitInteractionConsent: { request: () => ({ path: `/interaction/${bogusUid()}/consent`, form: { csrf: 'x', scope: 'openid' } }), public: [400] },
  abortInteraction: { request: () => ({ path: `/interaction/${bogusUid()}/abort` }), public: [400] },
  // The console's pages are static shells (their scripts fetch the data with the caller's own session): the same for anyone.
  getConsoleProfile: { request: () => ({ path: '/account' }), public: [200] },
  getConsoleSignIn: { request: () => ({ path: '/account/sign-in' }), public: [200] },
  getConsoleSignUp: { request: () => ({ path: '/account/sign-up' }), public: [200] },
  getConsoleVerifyEmail: { request: () => ({ path: '/account/verify-email' }), public: [200] },
  getConsoleForgotPassword: { request: () => ({ path: '/account/forgot-password' }), public: [200] },
  getConsoleResetPassword: { request: () => ({ path: '/account/reset-password' }), public: [200] },
  getConsoleRings: { request: () => ({ path: '/account/rings' }), public: [200] },
  getConsoleVisibility: { request: () => ({ path: '/account/visibility' }), public: [200] },
  getConsoleServices: { request: () => ({ path: '/account/services' }), public: [200] },
  getConsoleActivity: { request: () => ({ path: '/account/activity' }), public: [200] },
  getConsoleSessions: { request: () => ({ path: '/account/sessions' }), public: [200] },
  getConsoleAsset: { request: () => ({ path: '/account/assets/console.js' }), public: [200] },
  getConsoleCredentials: { request: () => ({ path: '/account/credentials' }), public: [200] },
  getConsoleHealth: { request: () => ({ path: '/account/health' }), public: [200] },
  getConsoleEmergency: { request: () => ({ path: '/account/emergency' }), public: [200] },
  getConsoleShares: { request: () => ({ path: '/account/shares' }), public: [200] },
  getConsolePortable: { request: () => ({ path: '/account/portable' }), public: [200] },
  listProfileActivity: { request: () => ({ path: '/api/v1/profile/activity' }) },
  // A proof needs a signed checkpoint covering the caller's chain; the job's first pass has not covered them yet.
  getActivityProof: { request: () => ({ path: '/api/v1/profile/activity/proof' }), owner: [200, 404], other: [200, 404] },
  submitInteractionPasskey: {
    request: () => ({ path: `/interaction/${bogusUid()}/passkey`, json: { csrf: 'x', response: FAKE_WEBAUTHN } }),
    public: [400],
  },
  getDataProfile: { request: () => ({ path: '/api/v1/data/profile' }) },
  getDataService: { request: () => ({ path: '/api/v1/data/service' }) },
  listProfileAccess: { request: () => ({ path: '/api/v1/profile/access' }) },
  revokeProfileAccess: { request: (w) => ({ path: '/api/v1/profile/revoke-access', json: { service_id: w.revocable } }), other: [404] },
  listServices: { request: () => ({ path: '/api/v1/admin/services' }) },
  createService: {
    request: () => ({
      path: '/api/v1/admin/services',
      json: { name: 'Matrix service', role: 'commercial', redirect_uris: ['https://matrix.example/callback'] },
    }),
  },
  getService: { request: (w) => ({ path: `/api/v1/admin/services/${w.adminTarget}` }) },
  listCredentialTypes: { request: () => ({ path: '/api/v1/credential-types' }) },
  addCredential: {
    // A picture with no barcode: the owner and the other person get 422 for their own profile, nobody else gets in.
    request: (w) => ({
      path: '/api/v1/profile/add-credential',
      multipart: [
        { name: 'credential_type', data: "Driver's License" },
        { name: 'credential_image', filename: 'a.png', type: 'image/png', data: w.png },
      ],
    }),
    owner: [422],
    other: [422],
  },
  listCredentials: { before: (w) => ensureCredential(w), request: () => ({ path: '/api/v1/profile/credentials' }) },
  getCredential: {
    before: (w, as) => ensureCredential(w, as === 'owner'),
    request: () => ({ path: `/api/v1/profile/credentials/${ownerCredential}` }),
    other: [404],
  },
  getCredentialImage: {
    before: (w, as) => ensureCredential(w, as === 'owner'),
    request: () => ({ path: `/api/v1/profile/credentials/${ownerCredential}/image` }),
    other: [404],
  },
  confirmCredential: {
    before: (w, as) => ensureCredential(w, as === 'owner'),
    request: () => ({ path: `/api/v1/profile/credentials/${ownerCredential}/confirm`, json: { fields: ['drivers_license_number'] } }),
    other: [404],
  },
  rejectCredential: {
    before: (w, as) => ensureCredential(w, as === 'owner'),
    request: () => ({ path: `/api/v1/profile/credentials/${ownerCredential}/reject` }),
    other: [404],
  },
  deleteCredential: {
    before: (w, as) => ensureCredential(w, as === 'owner'),
    request: () => ({ path: `/api/v1/profile/credentials/${ownerCredential}` }),
    other: [404],
  },
  disableService: { request: (w) => ({ path: `/api/v1/admin/services/${w.adminTarget}/disable` }) },
  listHealthRecords: { request: () => ({ path: '/api/v1/profile/health-records' }) },
  createHealthRecord: { request: () => ({ path: '/api/v1/profile/health-records', json: HEALTH_RECORD }) },
  exportHealthRecords: { request: () => ({ path: '/api/v1/profile/health-records/bundle' }) },
  importHealthRecords: {
    request: () => ({
      path: '/api/v1/profile/health-records/bundle',
      json: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: HEALTH_RECORD }] },
    }),
  },
  getHealthRecord: { before: ensureHealth, request: () => ({ path: `/api/v1/profile/health-records/${healthOfOwner.record}` }), other: [404] },
  updateHealthRecord: {
    before: ensureHealth,
    request: () => ({ path: `/api/v1/profile/health-records/${healthOfOwner.record}`, json: HEALTH_RECORD }),
    other: [404],
  },
  deleteHealthRecord: {
    before: ensureHealth,
    request: () => ({ path: `/api/v1/profile/health-records/${healthOfOwner.doomedRecord}` }),
    other: [404],
  },
  // The other person has no record of the owner's: their selection names none of theirs.
  createHealthLink: {
    before: ensureHealth,
    request: () => ({
      path: '/api/v1/profile/share-create-link',
      json: { health_records_info: { record_ids: [healthOfOwner.record] }, doctor_email: 'dr.matrix@clinic.example' },
    }),
    other: [400],
  },
  listHealthLinks: { request: () => ({ path: '/api/v1/profile/health-links' }) },
  revokeHealthLink: { before: ensureHealth, request: () => ({ path: `/api/v1/profile/health-links/${healthOfOwner.doomedLink}` }), other: [404] },
  // A health link's token is its own credential: no bearer opens one.
  showHealthLinkPage: { request: () => ({ path: `/share/${randomBytes(32).toString('base64url')}` }), public: [404] },
  getHealthLinkAsset: { request: () => ({ path: '/share/assets/health-link.js' }), public: [200] },
  requestHealthLinkCode: {
    request: () => ({ path: `/api/v1/health-links/${randomBytes(32).toString('base64url')}/code`, json: { email: 'dr.matrix@clinic.example' } }),
    public: [404],
  },
  openHealthLink: {
    request: () => ({
      path: `/api/v1/health-links/${randomBytes(32).toString('base64url')}/access`,
      json: { email: 'dr.matrix@clinic.example', code: '123456' },
    }),
    public: [404],
  },
  createShare: { request: (w) => ({ path: '/api/v1/profile/share-create', json: { service_id: w.services[0].clientId, info_field: 'handle' } }) },
  listShares: { request: () => ({ path: '/api/v1/profile/shares' }) },
  revokeShare: { before: async (w) => void (await ownerShare(w)), request: () => ({ path: `/api/v1/profile/shares/${ownerShareId}` }), other: [404] },
  verifyShareToken: { request: () => ({ path: '/api/v1/verify', json: { verification_token: 'not-a-token' } }), public: [200] },
  getJwtVcIssuerMetadata: { request: () => ({ path: '/.well-known/jwt-vc-issuer' }), public: [200] },
  getIssuerJwks: { request: () => ({ path: '/api/v1/issuer/jwks.json' }), public: [200] },
  getSsfConfiguration: { request: () => ({ path: '/.well-known/ssf-configuration' }), public: [200] },
  getStatusList: { request: async (w) => ({ path: new URL(await ownerShare(w)).pathname }), public: [200] },
  createDataRequest: {
    request: (w) => ({ path: '/api/v1/data/requests', json: { subject: w.owner.handle, fields: ['handle'], purpose: 'matrix' } }),
  },
  getDataRequest: { request: () => ({ path: `/api/v1/data/requests/${randomUUID()}` }) },
  listProfileRequests: { request: () => ({ path: '/api/v1/profile/requests' }) },
  approveProfileRequest: {
    before: async (w) => void (await ownerRequest(w)),
    request: () => ({ path: `/api/v1/profile/requests/${ownerRequestId}/approve` }),
    other: [404],
  },
  declineProfileRequest: {
    before: async (w) => void (await ownerRequest(w)),
    request: () => ({ path: `/api/v1/profile/requests/${ownerRequestId}/decline` }),
    other: [404],
  },
  verifyAuditChain: { request: () => ({ path: '/api/v1/admin/audit/verify' }) },
  listAuditCheckpoints: { request: () => ({ path: '/api/v1/admin/audit/checkpoints' }) },
  createEmergencyAccess: { before: dropEmergencySetup, request: () => ({ path: '/api/v1/profile/emergency-access', json: EMERGENCY_SETUP }) },
  getEmergencyAccess: { before: ensureEmergencySetup, request: () => ({ path: '/api/v1/profile/emergency-access' }) },
  replaceEmergencyAccess: { before: ensureEmergencySetup, request: () => ({ path: '/api/v1/profile/emergency-access', json: EMERGENCY_SETUP }) },
  deleteEmergencyAccess: { before: ensureEmergencySetup, request: () => ({ path: '/api/v1/profile/emergency-access' }) },
  grantEmergencyAccess: {
    request: (w) => ({
      path: '/api/v1/profile/emergency-access/grant',
      json: { responder_id: 'matrix-1', reason: 'matrix', email: w.owner.email, criterion: 'unconsciousness' },
    }),
  },
  // Nobody named the owner or the other person a trusted contact: both get the one answer that tells nothing.
  openEmergencyAccess: {
    request: (w) => ({
      path: '/api/v1/profile/emergency-access/open',
      json: { email: w.owner.email, reason: 'matrix', criterion: 'unconsciousness' },
    }),
    owner: [404],
    other: [404],
  },
  getEmergencyCard: { before: ensureEmergencySetup, request: () => ({ path: '/api/v1/profile/emergency-access/card?format=png' }) },
  rotateEmergencyCard: { before: ensureEmergencySetup, request: () => ({ path: '/api/v1/profile/emergency-access/card/rotate' }) },
  listEmergencyAccessLog: { request: () => ({ path: '/api/v1/profile/emergency-access/log' }) },
  endEmergencyAccess: { request: () => ({ path: `/api/v1/profile/emergency-access/log/${randomUUID()}/end` }), owner: [404], other: [404] },
  flagEmergencyAccess: {
    request: () => ({ path: `/api/v1/profile/emergency-access/log/${randomUUID()}/flag`, json: {} }),
    owner: [404],
    other: [404],
  },
  declineTrustedContact: {
    request: () => ({ path: '/api/v1/emergency-access/decline', json: { token: randomBytes(32).toString('base64url') } }),
    public: [400],
  },
  listResponders: { request: () => ({ path: '/api/v1/responders' }) },
  createResponder: { request: () => ({ path: '/api/v1/responders', json: { responder_id: 'matrix-1', name: 'Matrix Medic', licence: 'M-1' } }) },
  getResponder: { request: () => ({ path: '/api/v1/responders/matrix-1' }) },
  updateResponder: { request: () => ({ path: '/api/v1/responders/matrix-1', json: { active: false } }) },
  deleteResponder: { request: () => ({ path: '/api/v1/responders/matrix-1' }) },
  listDocuments: { request: () => ({ path: '/api/v1/profile/documents' }) },
  createDocument: { request: () => ({ path: '/api/v1/profile/documents', json: { kind: 'lease', title: 'Matrix lease', references: ['bio'] } }) },
  getDocument: { request: async (w) => ({ path: `/api/v1/profile/documents/${await sharedDocFor(w, 'owner')}` }), other: [404] },
  updateDocument: {
    request: async (w) => ({
      path: `/api/v1/profile/documents/${await sharedDocFor(w, 'owner')}`,
      json: { kind: 'other', title: 'Matrix document', fields: { note: 'matrix' }, roles: ['government'] },
    }),
    other: [404],
  },
  deleteDocument: {
    before: async (w) => {
      doomedDoc ||= await newDocument(w.owner.token, []);
    },
    request: () => ({ path: `/api/v1/profile/documents/${doomedDoc}` }),
    other: [404],
  },
  listDataDocuments: { request: () => ({ path: '/api/v1/data/documents' }) },
  getDataDocument: { request: async (w, as) => ({ path: `/api/v1/data/documents/${await sharedDocFor(w, as)}` }) },
  listProfileDeliveries: { request: () => ({ path: '/api/v1/profile/deliveries' }) },
  listDeliveries: { request: () => ({ path: '/api/v1/admin/deliveries?state=failed' }) },
  replayDelivery: {
    // A delivery the outbox gave up on, to the service the admin API works on (it has no webhook URL: dropped again).
    before: async (w) => {
      if (replayable) return;
      replayable = randomUUID();
      await app.service.deps.db('webhook_deliveries').insert({
        id: replayable,
        client_id: w.adminTarget,
        user_id: w.other.userId,
        type: 'profile.updated',
        body: JSON.stringify({ type: 'profile.updated', fields: ['bio'] }),
        state: 'failed',
      });
    },
    request: () => ({ path: `/api/v1/admin/deliveries/${replayable}/replay` }),
  },
  setServiceWebhook: {
    // Nobody listens on port 9: the events it is sent fail on loopback, never reach the network.
    request: (w) => ({ path: `/api/v1/admin/services/${w.adminTarget}/webhook`, json: { webhook_url: 'http://127.0.0.1:9/hooks' } }),
  },
  // ---- passkeys and portable (issue 18) ----
  showPasskeysPage: { request: () => ({ path: '/account/passkeys' }), public: [200] },
  getPasskeysAsset: { request: () => ({ path: '/account/passkeys/assets/passkeys.js' }), public: [200] },
  createPasskeyRegistrationOptions: { request: () => ({ path: '/api/v1/profile/passkeys/registration-options', json: {} }) },
  // A made-up answer: no challenge of anyone's matches it.
  registerPasskey: { request: () => ({ path: '/api/v1/profile/passkeys', json: { response: FAKE_WEBAUTHN } }), owner: [401], other: [401] },
  listPasskeys: { request: () => ({ path: '/api/v1/profile/passkeys' }) },
  renamePasskey: {
    before: async (w) => {
      ownerPasskey ||= await newOwnerPasskey(w);
    },
    request: () => ({ path: `/api/v1/profile/passkeys/${ownerPasskey}`, json: { name: 'Renamed by the matrix' } }),
    other: [404],
  },
  deletePasskey: {
    before: async (w) => {
      doomedPasskey ||= await newOwnerPasskey(w);
    },
    request: () => ({ path: `/api/v1/profile/passkeys/${doomedPasskey}` }),
    other: [404],
  },
  createPasskeyLoginOptions: { request: () => ({ path: '/api/v1/auth/passkey/options', json: {} }) },
  loginWithPasskey: { request: () => ({ path: '/api/v1/auth/passkey', json: { response: FAKE_WEBAUTHN } }), public: [401] },
  createKeyChallenge: { request: (w) => ({ path: '/api/v1/auth/key-challenge', json: { handle: w.owner.handle } }) },
  loginWithKey: {
    request: () => ({ path: '/api/v1/auth/key-login', json: { challenge: randomBytes(32).toString('base64url'), signature: 'AAAA' } }),
    public: [401],
  },
  stepUpSession: {
    request: (w, as) => {
      const p = as === 'owner' ? w.owner : as === 'operator' ? w.operator : w.other;
      return { path: '/api/v1/auth/step-up', json: { method: 'password', password: p.password } };
    },
  },
  replacePublicKey: {
    request: () => ({
      path: '/api/v1/auth/public-key',
      json: { public_key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    }),
  },
  listSessions: { request: () => ({ path: '/api/v1/auth/sessions' }) },
  endSession: {
    // A login of the owner's made for the purpose: ending it leaves the owner's current session alone.
    before: async (w, as) => {
      if (as === 'owner' || !doomedSession) doomedSession = await newOwnerLogin(w);
    },
    request: () => ({ path: `/api/v1/auth/sessions/${doomedSession}` }),
    other: [404],
  },
  // No public key yet: 409 until replacePublicKey (earlier in the spec) registered one.
  exportProfile: { request: () => ({ path: '/api/v1/profile/export' }), owner: [200, 409], other: [200, 409] },
  exportProfileWithPassphrase: { request: () => ({ path: '/api/v1/profile/export', json: { passphrase: 'a passphrase of the matrix' } }) },
  importProfile: { request: () => ({ path: '/api/v1/profile/import', json: { signed: 'not.a.container' } }), owner: [400], other: [400] },
};

const FAKE_WEBAUTHN = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
};
let ownerPasskey = '';
let doomedPasskey = '';
let doomedSession = '';

async function newOwnerPasskey(w: World): Promise<string> {
  const id = randomUUID();
  await app.service.deps.db('passkeys').insert({
    id,
    user_id: w.owner.userId,
    credential_id: randomBytes(16).toString('base64url'),
    public_key: randomBytes(77),
    counter: 0,
    transports: JSON.stringify(['internal']),
    name: 'Matrix passkey',
  });
  return id;
}

/** A login of the owner's other than the one the matrix uses; its session id. */
async function newOwnerLogin(w: World): Promise<string> {
  const token = await newSessionToken(w.owner);
  return (
    await app.service.deps
      .db('sessions')
      .where({ access_hash: hashToken(token) })
      .first()
  ).family_id as string;
}

/** The newest verification code mailed to a person. */
async function latestCode(p: Person): Promise<string> {
  await app.smtp.waitFor((m) => /verification code/.test(m.subject ?? '') && (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(p.email));
  const mails = app.smtp.messages.filter(
    (m) => /verification code/.test(m.subject ?? '') && (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(p.email),
  );
  const code = /is: (\d{6})/.exec(mails[mails.length - 1].text ?? '')?.[1];
  if (!code) throw new Error('no code in the verification mail');
  return code;
}

type Kind = 'public' | 'optional' | 'session' | 'service' | 'client';

function kindOf(op: Operation): Kind {
  if (op.security.length === 0) return 'public';
  const schemes = op.security.map((r) => Object.keys(r));
  if (schemes.some((s) => s.length === 0)) return 'optional';
  if (schemes.every((s) => s.includes('serviceToken'))) return 'service';
  // Either a token under the person's grant or the service's own (a document read): a grant's token is as for 'service'.
  if (schemes.some((s) => s.includes('serviceToken')) && schemes.every((s) => s.includes('serviceToken') || s.includes('serviceClientToken')))
    return 'service';
  if (schemes.every((s) => s.includes('serviceClientToken'))) return 'client';
  return 'session';
}

const operatorOnly = (op: Operation) => /\(operators only\)/.test(String(op.raw.summary ?? ''));
const SUCCESS = [200, 201, 202, 204];

/** The statuses the spec's `security` (and the operators-only rule) allow this caller. */
function expectedStatuses(op: Operation, who: Who, fx: Fixture): number[] {
  const kind = kindOf(op);
  if (kind === 'public') return fx.public ?? SUCCESS;
  const deadOrForeign = who === 'expired' || who === 'revoked' || who.startsWith('svc:');
  if (kind === 'optional') {
    if (who === 'none' || who === 'other' || who === 'operator') return fx.public ?? SUCCESS;
    if (deadOrForeign) return [401];
    return SUCCESS;
  }
  if (kind === 'service') return who.startsWith('svc:') ? [200] : [401];
  // The service's own operations take client credentials tokens: a token under a person's grant is valid but not
  // for them (403); a person's session is no token of the provider's (401).
  if (kind === 'client') return who.startsWith('svc:') ? [403] : [401];
  if (who === 'none' || deadOrForeign) return [401];
  if (operatorOnly(op)) return who === 'operator' ? SUCCESS : [403];
  if (who === 'owner') return fx.owner ?? SUCCESS;
  return fx.other ?? SUCCESS;
}

/** The envelope code a refused credential gets. */
function expectedCode(op: Operation, who: Who): string | undefined {
  const kind = kindOf(op);
  if (kind !== 'session' && kind !== 'optional') return undefined;
  if (who === 'none') return kind === 'session' ? 'token_missing' : undefined;
  if (who === 'expired') return 'token_expired';
  if (who === 'revoked') return 'token_revoked';
  if (who.startsWith('svc:')) return 'invalid_token';
  return undefined;
}

async function ownerRows(w: World): Promise<string> {
  const { rows } = await app.service.deps.db.raw(
    `select md5(concat_ws('#',
       (select string_agg(t::text, '|' order by t::text) from users t where id = :u),
       (select string_agg(t::text, '|' order by t::text) from profiles t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from profile_fields t where profile_id = :p),
       (select string_agg(t::text, '|' order by t::text) from status_posts t where profile_id = :p),
       (select string_agg(t::text, '|' order by t::text) from avatars t where profile_id = :p),
       (select string_agg(t::text, '|' order by t::text) from rings t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from ring_settings t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from sessions t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from email_verifications t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from password_resets t where user_id = :u),
       (select string_agg(t.kind || t.id || t.payload::text, '|' order by t.kind, t.id) from oidc_payloads t where account_id = :u),
       (select string_agg(t::text, '|' order by t::text) from health_records t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from health_links t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from passkeys t where user_id = :u),
       (select string_agg(t::text, '|' order by t::text) from profile_imports t where user_id = :u)
     )) as h`,
    { u: w.owner.userId, p: w.owner.profileId },
  );
  return rows[0].h as string;
}

interface Tally {
  calls: number;
  refused: number;
  allowed: number;
  unauthorizedReads: number;
  unauthorizedChanges: number;
  problems: string[];
}

test.before(async () => {
  recordSecrets('security-matrix', app.kek.toString('hex'), app.kek.toString('base64'));
});

test('every operation answers every caller as its security and the policies say, and only the owner reads or changes their data', async (t) => {
  t.timeout(170_000);
  const owner = await registerPerson('owner', {});
  const other = await registerPerson('other', {});
  const operator = await registerPerson('operator', {});
  await app.service.deps.db('users').where({ id: operator.userId }).update({ is_operator: true });

  // The owner's shape: a custom ring admitting healthcare, the avatar kept private, a public and a private status.
  const ring = await http('POST', '/api/v1/profile/privilege-rings', owner.token, {
    json: { ring_name: `Care-${owner.tag}`, assigned_data: { fields: ['allergies', 'medications'], roles: ['healthcare'] } },
  });
  t.is(ring.status, 201, ring.text);
  owner.privateMarkers.set('ring_name', `Care-${owner.tag}`);
  const ringId = (ring.json as { ring_id: string }).ring_id;
  owner.privateMarkers.set('ring_id', ringId);
  t.is(
    (await http('POST', '/api/v1/profile/privilege-rings', owner.token, { json: { ring_name: 'private', assigned_data: { fields: ['avatar'] } } }))
      .status,
    200,
  );
  const pub = await http('POST', '/api/v1/profile/statuses', owner.token, { json: { content: `public-status-${owner.tag}` } });
  const priv = await http('POST', '/api/v1/profile/statuses', owner.token, { json: { content: `private-status-${owner.tag}`, ring: 'private' } });
  const publicStatusId = (pub.json as { post: { status_id: string } }).post.status_id;
  const privateStatusId = (priv.json as { post: { status_id: string } }).post.status_id;
  owner.publicMarkers.set('public_status', `public-status-${owner.tag}`);
  owner.publicMarkers.set('public_status_id', publicStatusId);
  owner.privateMarkers.set('private_status', `private-status-${owner.tag}`);
  owner.privateMarkers.set('private_status_id', privateStatusId);

  // A service of every role in policies/roles, each granted by the owner every scope it may ask for; one granted
  // by the other person; one to revoke; one for the admin API. Real tokens, through the real pages.
  const roles = [...app.service.deps.policy.policies.roles.keys()].sort();
  const services: ServiceCaller[] = [];
  const grantFor = async (person: Person, role: string, label: 'owner' | 'other') => {
    const scope = [...supportedScopes(app.service.deps.policy.policies)].join(' ');
    const granted = await grantService(app, browser, callback.url, { handle: person.handle, password: person.password }, role, scope);
    recordSecrets(
      'security-matrix',
      granted.clientSecret,
      granted.tokens.access_token,
      granted.tokens.refresh_token,
      granted.dataTokens.access_token,
      granted.dataTokens.refresh_token,
    );
    return {
      role,
      clientId: granted.service.client_id,
      token: granted.dataTokens.access_token,
      sub: await subjectAt(app, granted.service.client_id, person.userId),
      person: label,
      scopes: String(granted.dataTokens.scope ?? scope).split(' '),
    };
  };
  for (const role of roles) services.push(await grantFor(owner, role, 'owner'));
  services.push(await grantFor(other, 'government', 'other'));
  const revocable = (await grantFor(owner, 'commercial', 'owner')).clientId;
  const adminTarget = (await grantFor(other, 'commercial', 'other')).clientId;

  world = {
    owner,
    other,
    operator,
    expired: '',
    revoked: '',
    services,
    revocable,
    adminTarget,
    ringId,
    privateStatusId,
    publicStatusId,
    png: PNG_1x1,
  };
  await renewCredentials(world);
  await ensureAvatar(world);

  const files = policyFiles();
  const missing = spec.operations.filter((op) => !FIXTURES[op.operationId]).map((op) => op.operationId);
  t.deepEqual(missing, [], "every operation needs a fixture in FIXTURES (how to call it with the owner's identifiers)");

  const totals = { calls: 0, unauthorizedReads: 0, unauthorizedChanges: 0 };
  const problems: string[] = [];
  for (const op of spec.operations) {
    const fx = FIXTURES[op.operationId];
    if (!fx) continue;
    const kind = kindOf(op);
    const callers: Who[] = [
      'none',
      'expired',
      'revoked',
      ...services.map((_s, i) => `svc:${i}` as Who),
      'other',
      ...(operatorOnly(op) ? (['operator'] as Who[]) : []),
      'owner',
    ];
    const tally: Tally = { calls: 0, refused: 0, allowed: 0, unauthorizedReads: 0, unauthorizedChanges: 0, problems: [] };
    const statuses = new Map<Who, number>();
    for (const who of callers) {
      await fx.before?.(world, who);
      const req = await fx.request(world, who);
      const svc = who.startsWith('svc:') ? world.services[Number(who.slice(4))] : undefined;
      const token =
        who === 'none'
          ? undefined
          : who === 'expired'
            ? world.expired
            : who === 'revoked'
              ? world.revoked
              : who === 'other'
                ? world.other.token
                : who === 'operator'
                  ? world.operator.token
                  : who === 'owner'
                    ? world.owner.token
                    : svc!.token;
      const before = who === 'owner' || kind === 'public' ? undefined : await ownerRows(world);
      const res = await http(op.method, req.path, token, req);
      tally.calls++;
      statuses.set(who, res.status);
      const label = svc ? `service ${svc.role}${svc.person === 'other' ? ' (granted by the other person)' : ''}` : who;
      const fail = (message: string) => tally.problems.push(`${op.operationId} as ${label}: ${message}`);

      const allowed = expectedStatuses(op, who, fx);
      if (!allowed.includes(res.status)) fail(`answered ${res.status}, expected ${allowed.join(' or ')}: ${res.text.slice(0, 200)}`);
      if (res.status >= 200 && res.status < 300) tally.allowed++;
      else tally.refused++;
      const code = expectedCode(op, who);
      if (code && res.status === 401 && (res.json as { error?: string } | undefined)?.error !== code)
        fail(`refused with ${(res.json as { error?: string })?.error}, expected ${code}`);
      // A refusal never carries anything but the envelope (or a page); success on a refused caller is a read.
      if (res.status >= 200 && res.status < 300 && !allowed.includes(res.status) && who !== 'owner') tally.unauthorizedReads++;
      const problemsOfSpec = spec.validateResponse(
        op,
        res.status,
        res.type,
        res.type.startsWith('application/json') ? res.json : res.text || undefined,
      );
      if (problemsOfSpec.length > 0) fail(`breaks openapi.yaml: ${problemsOfSpec.join('; ')}`);

      const rings = svc && op.operationId === 'getDataProfile' ? await ringsOf(svc.person === 'owner' ? world.owner : world.other) : undefined;
      const leaked = leaks(JSON.stringify(req), op, kind, who, svc, res, files, rings);
      if (leaked.length > 0) {
        tally.unauthorizedReads++;
        fail(`the body shows ${leaked.join(', ')}`);
      }
      if (before !== undefined && (await ownerRows(world)) !== before) {
        tally.unauthorizedChanges++;
        fail("the owner's data changed");
      }
      if (op.operationId === 'deleteStatus' && who === 'owner') doomedStatus = '';
      if (op.operationId === 'deletePrivilegeRing' && who === 'owner') doomedRing = '';
      if (op.operationId === 'deleteDocument' && who === 'owner') doomedDoc = '';
      if (fx.endsSessions && res.status < 300) {
        if (op.operationId === 'changePassword' && res.status === 200) {
          const p = who === 'owner' ? world.owner : who === 'operator' ? world.operator : world.other;
          p.password = `${p.password} v2`;
          recordSecrets('security-matrix', p.password);
        }
        await renewCredentials(world);
      }
    }
    // A public operation ignores the bearer: every caller gets what the anonymous one got.
    if (kind === 'public') {
      const distinct = new Set(statuses.values());
      if (distinct.size > 1)
        tally.problems.push(`${op.operationId}: callers got different answers (${[...statuses].map(([w, s]) => `${w}:${s}`).join(' ')})`);
    }
    totals.calls += tally.calls;
    totals.unauthorizedReads += tally.unauthorizedReads;
    totals.unauthorizedChanges += tally.unauthorizedChanges;
    problems.push(...tally.problems);
    t.log(
      `${op.operationId} (${kind}${operatorOnly(op) ? ', operators only' : ''}): ${tally.calls} calls, ${tally.allowed} allowed, ${tally.refused} refused, unauthorized reads ${tally.unauthorizedReads}, changes ${tally.unauthorizedChanges}`,
    );
  }
  t.log(
    `matrix: ${spec.operations.length} operations, ${totals.calls} calls, unauthorized reads: ${totals.unauthorizedReads}, unauthorized changes: ${totals.unauthorizedChanges}`,
  );
  t.deepEqual(problems, []);
  t.is(totals.unauthorizedReads, 0);
  t.is(totals.unauthorizedChanges, 0);
});

/** The owner's (or other person's) markers in a body the caller may not see; for a service, what policy allows. */
function leaks(
  sent: string,
  op: Operation,
  kind: Kind,
  who: Who,
  svc: ServiceCaller | undefined,
  res: RawResponse,
  files: ReturnType<typeof policyFiles>,
  rings: Map<string, FieldRing> | undefined,
): string[] {
  if (!res.type.startsWith('application/json') && !res.type.startsWith('text/') && !res.type.startsWith('application/yaml')) return [];
  const text = res.text;
  const found: string[] = [];
  const search = (_person: Person, markers: Map<string, string>, allowed: Set<string>, whose: string) => {
    // An identifier the caller put in the request itself (a ring id in the path) is no disclosure when echoed.
    for (const [name, value] of markers) if (!allowed.has(name) && text.includes(value) && !sent.includes(value)) found.push(`${whose} ${name}`);
  };
  const { owner, other } = world;
  const publicOp = kind === 'public' || kind === 'optional';
  if (who === 'owner') {
    search(other, other.privateMarkers, new Set(), "the other person's");
    return found;
  }
  if (svc) {
    const subject = svc.person === 'owner' ? owner : other;
    const released = new Set<string>();
    if (res.status === 200 && op.operationId === 'getDataProfile') {
      const body = res.json as { subject: string; fields: Record<string, unknown> };
      released.add('user_id');
      for (const field of Object.keys(body.fields ?? {})) {
        released.add(field);
        found.push(...policyViolations(svc, field, files, rings?.get(field)));
      }
      if (body.subject !== svc.sub) found.push(`the wrong subject (${body.subject})`);
    }
    search(subject, subject.privateMarkers, released, svc.person === 'owner' ? "the owner's" : "the other person's");
    const stranger = svc.person === 'owner' ? other : owner;
    search(stranger, stranger.privateMarkers, new Set(), "a stranger's");
    if (!publicOp) search(stranger, stranger.publicMarkers, new Set(), "a stranger's");
    return found;
  }
  search(owner, owner.privateMarkers, new Set(), "the owner's");
  if (!publicOp) search(owner, owner.publicMarkers, new Set(), "the owner's");
  if (who !== 'other') search(other, other.privateMarkers, new Set(), "the other person's");
  return found;
}

interface FieldRing {
  ring: string;
  roles: string[];
  services: string[];
}

/** Where each field of a person sits now, and who a custom ring admits: the person's own view of it. */
async function ringsOf(p: Person): Promise<Map<string, FieldRing>> {
  const list = (await http('GET', '/api/v1/profile/privilege-rings', p.token)).json as {
    rings: { ring_id: string; kind: string; fields: string[]; admits: { roles: string[]; services: string[] } }[];
  };
  const out = new Map<string, FieldRing>();
  for (const r of list.rings) {
    for (const f of r.fields)
      out.set(f, { ring: r.kind === 'default' ? r.ring_id : `custom:${r.ring_id}`, roles: r.admits.roles, services: r.admits.services });
  }
  return out;
}

/**
 * A field released to a service that the policy files forbid to its role: beyond its ceiling by classification or
 * by the person's ring, in a custom ring that does not admit it, or matched by a deny rule.
 */
function policyViolations(svc: ServiceCaller, field: string, files: ReturnType<typeof policyFiles>, ring: FieldRing | undefined): string[] {
  const role = files.roles.get(svc.role);
  const def = files.fields[field];
  if (!role || !def) return [`${field} (unknown to the policy files) to ${svc.role}`];
  const out: string[] = [];
  if (files.rank(def.ring) > files.rank(role.ceiling)) out.push(`${field} (classified ${def.ring}) beyond ${svc.role}'s ceiling ${role.ceiling}`);
  if (role.deny.some((p) => glob(p).test(field))) out.push(`${field}, which ${svc.role}'s rules deny`);
  if (ring?.ring.startsWith('custom:')) {
    if (!ring.roles.includes(svc.role) && !ring.services.includes(svc.clientId))
      out.push(`${field}, in a custom ring that does not admit ${svc.role}`);
  } else if (ring && files.rank(ring.ring) > files.rank(role.ceiling)) {
    out.push(`${field} (kept ${ring.ring}) beyond ${svc.role}'s ceiling ${role.ceiling}`);
  }
  return out;
}
