/**
 * Where a profile field's value came from (profile_fields.provenance), and what other code may conclude from it.
 * `user` and `registration` are self-asserted; `credential:<credential_id>` marks a value taken unchanged from a
 * government credential (src/features/credentials) that its owner confirmed. That form is a contract: selective
 * disclosure derives age predicates only from a date of birth whose provenance is `credential:<uuid>`. The
 * credentials feature keeps it true — a value the person corrects is written as `user`, and deleting the
 * credential turns the fields it verified back into `user` — so such a provenance always names a confirmed
 * credential of the same profile.
 */
import type { Knex } from 'knex';
import type { Queryable } from '../store/db.ts';

const PREFIX = 'credential:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The provenance of a value taken unchanged from confirmed credential `credentialId`. */
export function credentialProvenance(credentialId: string): string {
  return `${PREFIX}${credentialId}`;
}

/**
 * The id of the confirmed credential that verified a value of this provenance, or undefined when the value is
 * self-asserted (typed by the person, from registration, or corrected by them while confirming a credential).
 */
export function verifiedBy(provenance: string | null | undefined): string | undefined {
  if (!provenance?.startsWith(PREFIX)) return undefined;
  const id = provenance.slice(PREFIX.length);
  return UUID.test(id) ? id : undefined;
}

/** What the owner's profile shows of a credential behind a verified value. */
export interface CredentialEvidence {
  type: string;
  /** Codes of the checks that passed when the credential was read. */
  passed: string[];
}

/** The type and passed checks of confirmed credentials of one profile, by id. */
export async function findCredentialEvidence(q: Queryable, profileId: string, ids: readonly string[]): Promise<Map<string, CredentialEvidence>> {
  if (ids.length === 0) return new Map();
  // checks_passed holds only check codes (the checks themselves are sealed: their messages quote the card).
  const rows = (await q('credentials')
    .select('id', 'type', 'checks_passed')
    .where({ profile_id: profileId, state: 'confirmed' })
    .whereIn('id', ids)) as {
    id: string;
    type: string;
    checks_passed: string[] | string;
  }[];
  return new Map(
    rows.map((r) => [
      r.id,
      { type: r.type, passed: typeof r.checks_passed === 'string' ? (JSON.parse(r.checks_passed) as string[]) : r.checks_passed },
    ]),
  );
}

/**
 * Marks every value of the profile verified by `credentialId` as self-asserted (the credential is going away);
 * the fields it changed, to count a profile change and audit it.
 */
export async function unverifyFields(trx: Knex.Transaction, profileId: string, credentialId: string): Promise<string[]> {
  const own = credentialProvenance(credentialId);
  // A credential restored from another instance's container verified its fields as `imported:<issuer>:credential:<id>`.
  const rows = (await trx('profile_fields')
    .where({ profile_id: profileId })
    .where((q) => q.where('provenance', own).orWhere('provenance', 'like', `imported%:${own}`))
    .update({ provenance: 'user', updated_at: new Date() })
    .returning('field')) as { field: string }[];
  return rows.map((r) => r.field);
}
