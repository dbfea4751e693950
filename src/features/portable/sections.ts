/**
 * The sections of the portable container. Each feature contributes what it holds of a person through this one small
 * interface, registered in SECTIONS: `export` reads it in the export's transaction, `import` restores it into the
 * newly registered account in the import's transaction. A section never carries tokens, grants, sessions or secrets
 * of its instance; ids of the old instance are mapped (custom rings) or dropped (services).
 *
 * To add a section (credentials, documents, health records, emergency settings …): write one module exporting a
 * PortableSection and add it to SECTIONS, after the sections it depends on (fields after rings).
 */
import { avatarSection } from './sections/avatar.ts';
import { fieldsSection } from './sections/fields.ts';
import { grantsSection } from './sections/grants.ts';
import { healthSection } from './sections/health.ts';
import { ringsSection } from './sections/rings.ts';

import type { PortableSection } from './sections/section.ts';

/** Every section, in import order. */
export const SECTIONS: readonly PortableSection[] = [ringsSection, fieldsSection, avatarSection, healthSection, grantsSection];
