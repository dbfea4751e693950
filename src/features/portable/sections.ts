/**
 * The sections of the portable container. Each feature contributes what it holds of a person through this one small
 * interface, registered in SECTIONS: `export` reads it in the export's transaction, `import` restores it into the
 * newly registered account in the import's transaction. A section never carries tokens, grants, sessions or secrets
 * of its instance; ids of the old instance are mapped (custom rings) or dropped (services).
 *
 * To add a section: write one module exporting a PortableSection and add it to SECTIONS, after the sections it
 * depends on (fields after rings and credentials, whose new ids they map; the emergency setup after the fields,
 * for the name its contacts are told).
 */
import { avatarSection } from './sections/avatar.ts';
import { credentialsSection } from './sections/credentials.ts';
import { documentsSection } from './sections/documents.ts';
import { emergencySection } from './sections/emergency.ts';
import { fieldsSection } from './sections/fields.ts';
import { grantsSection } from './sections/grants.ts';
import { healthSection } from './sections/health.ts';
import { ringsSection } from './sections/rings.ts';
import { sharesSection } from './sections/shares.ts';

import type { PortableSection } from './sections/section.ts';

/** Every section, in import order. */
export const SECTIONS: readonly PortableSection[] = [
  ringsSection,
  credentialsSection,
  fieldsSection,
  avatarSection,
  healthSection,
  documentsSection,
  emergencySection,
  grantsSection,
  sharesSection,
];
