/** Fixtures of the shares tests: a person whose date of birth is verified, services, and the published keys. */
import { randomUUID } from 'node:crypto';
import { openUserProfile, writeFields } from '../../src/profiles/profile.repo.ts';
import { withTransaction } from '../../src/store/db.ts';
import type { TestApp } from '../helpers/app.ts';

/**
 * Marks the person's date of birth as verified by a confirmed credential: `profile_fields.provenance =
 * 'credential:<credential_uuid>'`, the contract with the credentials feature (issue 14, items 1–4). Until that
 * branch is merged this writes the provenance through the profile store's write path (writeFields) with a made-up
 * credential id; at the merge it becomes the real flow (add-credential with a generated licence photo, confirm).
 */
export async function markDateOfBirthVerified(app: TestApp, userId: string, dateOfBirth = '1990-12-10'): Promise<string> {
  const deps = app.service.deps;
  const credentialId = randomUUID();
  await withTransaction(deps.db, async (trx) => {
    const profile = await openUserProfile(trx, deps.keyring, userId);
    await writeFields(trx, profile, [{ field: 'date_of_birth', value: dateOfBirth, ring: 'private', provenance: `credential:${credentialId}` }]);
  });
  return credentialId;
}

/** The issuer's keys as a third party finds them: the issuer metadata, then its jwks_uri. */
export async function publishedJwks(app: TestApp): Promise<{ keys: Record<string, string>[] }> {
  const meta = await app.request('GET', '/.well-known/jwt-vc-issuer');
  if (meta.status !== 200) throw new Error(`issuer metadata: ${meta.text}`);
  const jwks = await fetch(meta.body.jwks_uri);
  return (await jwks.json()) as { keys: Record<string, string>[] };
}

/** The payload of the token's issuer-signed JWT, and its disclosures decoded ([salt, name, value]). */
export function decodeShare(token: string): { header: Record<string, unknown>; payload: Record<string, any>; disclosures: unknown[][] } {
  const [jwt, ...disclosures] = token.split('~').filter(Boolean);
  const [h, p] = jwt.split('.');
  const json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: json(h), payload: json(p), disclosures: disclosures.map(json) };
}
