/**
 * The interface a feature's section of the portable container implements (the list is ../sections.ts): `export`
 * reads what the feature holds of the person in the export's transaction, `import` restores it into the newly
 * registered account in the import's transaction.
 */
import type { Knex } from 'knex';
import type { AppDeps } from '../../../deps.ts';
import type { OpenProfile } from '../../../disclosure/container.ts';
import { credentialProvenance, verifiedBy } from '../../../profiles/provenance.ts';

interface SectionContext {
  deps: AppDeps;
  userId: string;
  /** The person's profile, its data key open. */
  profile: OpenProfile;
}

interface ImportContext extends SectionContext {
  /** The issuer of the exporting instance (`<its BASE_URL>/oidc`), for provenance marks. */
  issuer: string;
  /**
   * Whether the signature was checked with keys fetched from that issuer itself; with a JWKS the person gave, the
   * issuer's name is only as good as that file, and imported provenance says so.
   */
  issuerVerified: boolean;
  /** What earlier sections of this import share with later ones (old custom ring id → new one). */
  ringIds: Map<string, string>;
  /** Old credential id → the id of the credential restored here (provenance `credential:<id>` is mapped). */
  credentialIds: Map<string, string>;
  /** The importing request's address, for the audit records sections write. */
  clientIp: string;
}

export interface SectionResult {
  imported: number;
  /** What was not restored, and why, for the person to read. */
  skipped?: string[];
}

export interface PortableSection {
  name: string;
  /** The version of this section's format; an import refuses a newer one than it knows. */
  version: number;
  export(trx: Knex.Transaction, ctx: SectionContext): Promise<unknown>;
  import(trx: Knex.Transaction, ctx: ImportContext, data: unknown): Promise<SectionResult>;
}

/**
 * The provenance an imported value carries: as it was for the person's own entries; otherwise marked as verified by
 * the other instance (`imported:<issuer>:<original>`), or `imported-unverified:` when its keys were not fetched from it.
 * A `credential:<id>` whose credential was restored here names the restored one (`imported:<issuer>:credential:<new id>`);
 * it is never a plain `credential:` provenance, which says this instance read and checked the card itself.
 */
export function importedProvenance(
  ctx: Pick<ImportContext, 'issuer' | 'issuerVerified'> & Partial<Pick<ImportContext, 'credentialIds'>>,
  provenance: string,
): string {
  if (provenance === 'user' || provenance === 'registration' || provenance.startsWith('imported')) return provenance;
  const old = verifiedBy(provenance);
  const restored = old ? ctx.credentialIds?.get(old) : undefined;
  return `${ctx.issuerVerified ? 'imported' : 'imported-unverified'}:${ctx.issuer}:${restored ? credentialProvenance(restored) : provenance}`;
}

/** A timestamp of the container, or now when it is not one (what the old instance said is kept when it can be). */
export function dateOf(value: unknown): Date {
  const d = new Date(typeof value === 'string' ? value : Number.NaN);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}
