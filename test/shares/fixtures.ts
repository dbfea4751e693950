/** Fixtures of the shares tests: a person whose date of birth is verified, services, and the published keys. */
import type { TestApp } from '../helpers/app.ts';
import { addLicence, JANE } from '../credentials/fixtures.ts';

/**
 * Verifies the person's date of birth the way a person does: a generated, tilted photo of a licence with that date
 * goes through add-credential, and the person confirms its date of birth (provenance `credential:<id>`, issue 14
 * items 1–4). The credential's id.
 */
export async function markDateOfBirthVerified(app: TestApp, person: { token: string }, dateOfBirth = '1990-12-10'): Promise<string> {
  const added = await addLicence(app, person.token, { ...JANE, dob: dateOfBirth });
  const confirmed = await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/confirm`, {
    token: person.token,
    json: { fields: ['date_of_birth'] },
  });
  if (confirmed.status !== 200) throw new Error(`confirm: ${confirmed.status} ${confirmed.text}`);
  return added.credential_id as string;
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
