/**
 * The portable container: the person's whole profile as one file. Its sections (sections.ts) are put in one JSON
 * payload with a SHA-256 digest each, signed by this instance with its OpenID provider signing key (a JWS,
 * verifiable from `<issuer>/jwks`), then encrypted (a JWE, A256GCM) to the person's registered public key —
 * RSA-OAEP-256 for RSA, ECDH-ES+A256KW for P-256/P-384 — or to a passphrase (PBES2-HS512+A256KW). Only the person
 * can read it; anyone holding the exporter's JWKS can check it came, unaltered, from that instance.
 */
import { createHash, createPublicKey } from 'node:crypto';
import {
  CompactEncrypt,
  CompactSign,
  compactDecrypt,
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  importJWK,
  type JSONWebKeySet,
} from 'jose';
import type { Knex } from 'knex';
import { recordAudit } from '../../audit/audit.ts';
import { loadSigningKeys } from '../../crypto/signing-keys.ts';
import type { AppDeps } from '../../deps.ts';
import { ContainerInvalid, ContainerSignatureInvalid, ExportKeyUnsupported, ImportNotAllowed, IssuerUnreachable, NoPublicKey } from '../../errors.ts';
import { bumpVersion, lockProfile, openUserProfile } from '../../profiles/profile.repo.ts';
import { getUserById } from '../accounts/accounts.repo.ts';
import { SECTIONS } from './sections.ts';
import type { SectionResult } from './sections/section.ts';

const TYPE = 'ringfence-profile+jws';
const FORMAT = 1;
/** PBKDF2-HMAC-SHA512 iterations of a passphrase export (OWASP's figure for SHA-512), and the most an import accepts. */
const PBES2_COUNT = 210_000;
/** The largest JWKS fetched from an exporting instance. */
const JWKS_LIMIT = 64 * 1024;

export interface ContainerPayload {
  typ: 'ringfence-profile';
  format: number;
  iss: string;
  jwks_uri: string;
  sub: string;
  handle: string;
  exported_at: string;
  sections: Record<string, { version: number; digest: string; data: unknown }>;
}

function digest(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('base64url');
}

function issuerOf(deps: Pick<AppDeps, 'config'>): string {
  return `${deps.config.baseUrl}/oidc`;
}

/** Builds the signed payload (the JWS) of the person's profile, read in one snapshot. */
async function signedProfile(deps: AppDeps, userId: string): Promise<string> {
  const payload = await deps.db.transaction(
    async (trx: Knex.Transaction) => {
      const user = await getUserById(trx, userId);
      const profile = await openUserProfile(trx, deps.keyring, userId);
      const sections: ContainerPayload['sections'] = {};
      for (const s of SECTIONS) {
        const data = await s.export(trx, { deps, userId, profile });
        sections[s.name] = { version: s.version, digest: digest(data), data };
      }
      const iss = issuerOf(deps);
      return {
        typ: 'ringfence-profile',
        format: FORMAT,
        iss,
        jwks_uri: `${iss}/jwks`,
        sub: userId,
        handle: user.handle,
        exported_at: new Date().toISOString(),
        sections,
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  const keys = await loadSigningKeys(deps.db, deps.keyring);
  const jwk = keys.find((k) => k.alg === 'ES256') ?? keys[0];
  const key = await importJWK(jwk, jwk.alg);
  return new CompactSign(Buffer.from(JSON.stringify(payload), 'utf8')).setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: TYPE }).sign(key);
}

/** How the container is encrypted: to the registered public key, or to a passphrase. */
export type ExportTarget = { kind: 'public_key' } | { kind: 'passphrase'; passphrase: string };

/** The container (a compact JWE) of the person's profile. */
export async function exportContainer(
  deps: AppDeps,
  userId: string,
  target: ExportTarget,
  clientIp: string,
): Promise<{ jwe: string; handle: string }> {
  const user = await getUserById(deps.db, userId);
  let encrypt: (jwe: CompactEncrypt) => Promise<string>;
  if (target.kind === 'passphrase') {
    const secret = new TextEncoder().encode(target.passphrase);
    encrypt = (jwe) =>
      jwe
        .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: 'JWT' })
        .setKeyManagementParameters({ p2c: PBES2_COUNT })
        .encrypt(secret);
  } else {
    if (!user.public_key_pem) {
      throw new NoPublicKey('you have no registered public key: register one (PUT /api/v1/auth/public-key) or export with a passphrase (POST)');
    }
    const key = createPublicKey(user.public_key_pem);
    const alg = key.asymmetricKeyType === 'rsa' ? 'RSA-OAEP-256' : key.asymmetricKeyType === 'ec' ? 'ECDH-ES+A256KW' : undefined;
    if (!alg) {
      throw new ExportKeyUnsupported(
        'an Ed25519 key signs but cannot receive encryption: export with a passphrase (POST /api/v1/profile/export), or register an RSA or EC key',
      );
    }
    encrypt = (jwe) => jwe.setProtectedHeader({ alg, enc: 'A256GCM', cty: 'JWT', kid: user.public_key_fingerprint ?? undefined }).encrypt(key);
  }
  const jws = await signedProfile(deps, userId);
  const jwe = await encrypt(new CompactEncrypt(Buffer.from(jws, 'utf8')));
  await recordAudit(deps.db, {
    action: 'profile.exported',
    actor: `user:${userId}`,
    subject: `user:${userId}`,
    clientIp,
    data: { encrypted_to: target.kind, sections: SECTIONS.map((s) => s.name) },
  });
  return { jwe, handle: user.handle };
}

/** The JWKS of an exporting instance: given (offline), or fetched from `<issuer>/jwks`. */
async function exporterKeys(deps: AppDeps, issuer: string, given: JSONWebKeySet | undefined): Promise<JSONWebKeySet> {
  if (given) return given;
  let url: URL;
  try {
    url = new URL(`${issuer}/jwks`);
  } catch {
    throw new ContainerInvalid('the container names no valid issuer');
  }
  if (url.protocol !== 'https:' && (deps.config.env === 'production' || url.protocol !== 'http:')) {
    throw new IssuerUnreachable(`the exporting instance ${issuer} is not served over https: give its JWKS as jwks`);
  }
  try {
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
    const text = await res.text();
    if (!res.ok || text.length > JWKS_LIMIT) throw new Error(`status ${res.status}`);
    const jwks = JSON.parse(text) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error('no keys');
    return jwks;
  } catch (cause) {
    throw new IssuerUnreachable(`the exporting instance's keys could not be fetched from ${url.href}: give its JWKS as jwks (a file it published)`, {
      cause,
    });
  }
}

/** Decrypts a passphrase container to its JWS; anything altered or a wrong passphrase fails alike. */
async function openPassphraseContainer(container: string, passphrase: string): Promise<string> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(container);
  } catch {
    throw new ContainerInvalid('this is not a Ringfence container (a compact JWE)');
  }
  if (header.alg !== 'PBES2-HS512+A256KW') {
    throw new ContainerInvalid(
      'this container is encrypted to your key pair: decrypt it with your private key yourself (Ringfence never takes a private key) and send the JWS inside as signed',
    );
  }
  try {
    const { plaintext } = await compactDecrypt(container, new TextEncoder().encode(passphrase), {
      keyManagementAlgorithms: ['PBES2-HS512+A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
      maxPBES2Count: PBES2_COUNT,
    });
    return new TextDecoder().decode(plaintext);
  } catch {
    throw new ContainerInvalid('the container does not decrypt: the passphrase is wrong, or the file was altered');
  }
}

/** Checks the JWS's signature against the exporter's keys and each section's digest; returns the payload. */
async function verifiedPayload(
  deps: AppDeps,
  jws: string,
  jwks: JSONWebKeySet | undefined,
): Promise<{ payload: ContainerPayload; issuerVerified: boolean }> {
  let claimed: ContainerPayload;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.typ !== TYPE) throw new Error('not a profile container');
    claimed = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as ContainerPayload;
  } catch {
    throw new ContainerInvalid('this is not a Ringfence profile container (a JWS of type ringfence-profile+jws)');
  }
  if (claimed.typ !== 'ringfence-profile' || typeof claimed.iss !== 'string') throw new ContainerInvalid('this is not a Ringfence profile container');
  const keys = await exporterKeys(deps, claimed.iss, jwks);
  let payload: ContainerPayload;
  try {
    const { payload: bytes } = await compactVerify(jws, createLocalJWKSet(keys), { algorithms: ['ES256', 'RS256'] });
    payload = JSON.parse(new TextDecoder().decode(bytes)) as ContainerPayload;
  } catch {
    throw new ContainerSignatureInvalid(
      `the container's signature does not verify with the keys of ${claimed.iss}: it was altered, or not made there`,
    );
  }
  if (payload.format !== FORMAT) throw new ContainerInvalid(`container format ${payload.format} is not one this instance reads`);
  for (const [name, s] of Object.entries(payload.sections ?? {})) {
    if (digest(s.data) !== s.digest) throw new ContainerInvalid(`section ${name} does not match its digest`);
  }
  if (payload.iss !== claimed.iss) throw new ContainerInvalid('the container names another issuer than it claims');
  return { payload, issuerVerified: jwks === undefined };
}

export interface ImportInput {
  container?: string;
  passphrase?: string;
  signed?: string;
  jwks?: JSONWebKeySet;
}

/** Whether the account holds nothing but its registration: only then is a profile restored into it. */
async function assertFresh(trx: Knex.Transaction, userId: string, profileId: string): Promise<void> {
  const imported = await trx('profile_imports').where({ user_id: userId }).first();
  if (imported) throw new ImportNotAllowed('a profile was already imported into this account');
  const own = await trx('profile_fields').where({ profile_id: profileId }).whereNot({ provenance: 'registration' }).first('field');
  const rings = await trx('rings').where({ user_id: userId }).first('id');
  const avatar = await trx('avatars').where({ profile_id: profileId }).first('profile_id');
  const records = await trx('health_records').where({ user_id: userId }).first('id');
  const credentials = await trx('credentials').where({ profile_id: profileId }).first('id');
  const documents = await trx('documents').where({ user_id: userId }).first('id');
  const emergency = await trx('emergency_access').where({ user_id: userId }).first('id');
  if (own || rings || avatar || records || credentials || documents || emergency) {
    throw new ImportNotAllowed('this account already has its own profile data: import into a newly registered account');
  }
}

/** Restores a container into the caller's newly registered account, in one transaction. */
export async function importContainer(deps: AppDeps, userId: string, input: ImportInput, clientIp: string) {
  if ((input.container === undefined) === (input.signed === undefined)) {
    throw new ContainerInvalid('send either container with its passphrase, or signed (the JWS you decrypted with your private key)', {
      details: [{ path: input.container === undefined ? 'container' : 'signed', message: 'exactly one of container and signed is required' }],
    });
  }
  if (input.container !== undefined && !input.passphrase) {
    throw new ContainerInvalid('a container needs its passphrase', { details: [{ path: 'passphrase', message: 'is required with container' }] });
  }
  const jws = input.container !== undefined ? await openPassphraseContainer(input.container, input.passphrase!) : input.signed!;
  const { payload, issuerVerified } = await verifiedPayload(deps, jws, input.jwks);
  const known = new Map(SECTIONS.map((s) => [s.name, s]));
  for (const [name, s] of Object.entries(payload.sections)) {
    const section = known.get(name);
    if (section && s.version > section.version)
      throw new ContainerInvalid(`section ${name} is of version ${s.version}, newer than this instance reads`);
  }
  const results: Record<string, SectionResult> = {};
  await deps.db.transaction(async (trx) => {
    const profile = await openUserProfile(trx, deps.keyring, userId);
    await lockProfile(trx, profile.id);
    await assertFresh(trx, userId, profile.id);
    await trx('profile_imports').insert({
      user_id: userId,
      issuer: payload.iss,
      original_user_id: payload.sub,
      exported_at: new Date(payload.exported_at),
    });
    const ctx = {
      deps,
      userId,
      profile,
      issuer: payload.iss,
      issuerVerified,
      ringIds: new Map<string, string>(),
      credentialIds: new Map<string, string>(),
      clientIp,
    };
    for (const section of SECTIONS) {
      const s = payload.sections[section.name];
      if (s) results[section.name] = await section.import(trx, ctx, s.data);
    }
    for (const name of Object.keys(payload.sections).filter((n) => !known.has(n))) {
      results[name] = { imported: 0, skipped: [`section ${name} is not kept by this instance`] };
    }
    await bumpVersion(trx, profile.id);
    await recordAudit(trx, {
      action: 'profile.imported',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: {
        issuer: payload.iss,
        issuer_verified: issuerVerified,
        original_user_id: payload.sub,
        exported_at: payload.exported_at,
        sections: Object.keys(results),
      },
    });
  });
  return { issuer: payload.iss, issuer_verified: issuerVerified, exported_at: new Date(payload.exported_at).toISOString(), sections: results };
}
