/**
 * The interface a feature's section of the portable container implements (the list is ../sections.ts): `export`
 * reads what the feature holds of the person in the export's transaction, `import` restores it into the newly
 * registered account in the import's transaction.
 */
import type { Knex } from 'knex';
import type { AppDeps } from '../../../deps.ts';
import type { OpenProfile } from '../../../disclosure/container.ts';

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
 */
export function importedProvenance(ctx: Pick<ImportContext, 'issuer' | 'issuerVerified'>, provenance: string): string {
  if (provenance === 'user' || provenance === 'registration' || provenance.startsWith('imported')) return provenance;
  return `${ctx.issuerVerified ? 'imported' : 'imported-unverified'}:${ctx.issuer}:${provenance}`;
}
