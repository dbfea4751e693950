/**
 * The sections of the portable container. Each feature contributes what it holds of a person through this one small
 * interface, registered in SECTIONS: `export` reads it in the export's transaction, `import` restores it into the
 * newly registered account in the import's transaction. A section never carries tokens, grants, sessions or secrets
 * of its instance; ids of the old instance are mapped (custom rings) or dropped (services).
 *
 * To add a section (credentials, documents, health records, emergency settings …): write one module exporting a
 * PortableSection and add it to SECTIONS, after the sections it depends on (fields after rings).
 */
import type { Knex } from 'knex';
import type { AppDeps } from '../../deps.ts';
import type { OpenProfile } from '../../disclosure/container.ts';
import { avatarSection } from './sections/avatar.ts';
import { fieldsSection } from './sections/fields.ts';
import { grantsSection } from './sections/grants.ts';
import { ringsSection } from './sections/rings.ts';

export interface SectionContext {
  deps: AppDeps;
  userId: string;
  /** The person's profile, its data key open. */
  profile: OpenProfile;
}

export interface ImportContext extends SectionContext {
  /** The issuer of the exporting instance (`<its BASE_URL>/oidc`), for provenance marks. */
  issuer: string;
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

/** Every section, in import order. */
export const SECTIONS: readonly PortableSection[] = [ringsSection, fieldsSection, avatarSection, grantsSection];

/** The provenance an imported value carries: as it was for the person's own entries, marked as another instance's otherwise. */
export function importedProvenance(issuer: string, provenance: string): string {
  if (provenance === 'user' || provenance === 'registration' || provenance.startsWith('imported:')) return provenance;
  return `imported:${issuer}:${provenance}`;
}
