/**
 * Profile fields: each stored field's value, ring and provenance. On import, values are checked against this
 * instance's catalogue, custom rings are mapped to the rings the rings section restored, and provenance other than
 * the person's own entries is marked as the other instance's (`imported:<issuer>:<original>`). The account's own
 * e-mail address and handle (how it signs in here) are kept; their rings come from the container.
 */
import { CUSTOM_PREFIX } from '../../../policy/engine.ts';
import { fieldCatalogue } from '../../../profiles/catalogue.ts';
import { readFields, writeFields } from '../../../profiles/profile.repo.ts';
import { checkFieldValue } from '../../../profiles/values.ts';
import { setFieldRings } from '../../rings/rings.repo.ts';
import { importedProvenance, type PortableSection } from './section.ts';

interface ExportedField {
  field: string;
  value: unknown;
  ring: string;
  provenance: string;
  updated_at: string;
}

/** The account's own identifiers on this instance: kept as they are. */
const OWN_IDENTIFIERS = new Set(['email', 'handle']);

export const fieldsSection: PortableSection = {
  name: 'fields',
  version: 1,
  async export(trx, { profile }) {
    return [...(await readFields(trx, profile)).values()]
      .sort((a, b) => a.field.localeCompare(b.field))
      .map((f) => ({ field: f.field, value: f.value, ring: f.ring, provenance: f.provenance, updated_at: new Date(f.updatedAt).toISOString() }));
  },
  async import(trx, ctx, data) {
    const catalogue = fieldCatalogue(ctx.deps);
    const rings = new Set(catalogue.rings.map((r) => r.name));
    const own = await readFields(trx, ctx.profile, [...OWN_IDENTIFIERS]);
    const skipped: string[] = [];
    const writes: Parameters<typeof writeFields>[2][number][] = [];
    const placements: { field: string; ring: string }[] = [];
    for (const f of data as ExportedField[]) {
      const def = catalogue.fields.get(f.field);
      if (!def || def.derivedFrom) {
        skipped.push(`${f.field}: no such field here`);
        continue;
      }
      let ring = f.ring;
      if (ring.startsWith(CUSTOM_PREFIX)) {
        const mapped = ctx.ringIds.get(ring.slice(CUSTOM_PREFIX.length));
        ring = mapped ? `${CUSTOM_PREFIX}${mapped}` : def.ring;
        if (!mapped) skipped.push(`${f.field}: its custom ring was not in the container; it is in ${def.ring}`);
      } else if (!rings.has(ring)) {
        skipped.push(`${f.field}: ring ${ring} does not exist here; it is in ${def.ring}`);
        ring = def.ring;
      }
      placements.push({ field: f.field, ring });
      if (OWN_IDENTIFIERS.has(f.field)) {
        if (JSON.stringify(own.get(f.field)?.value) !== JSON.stringify(f.value)) skipped.push(`${f.field}: this account's own is kept`);
        continue;
      }
      // A picture's value is its image's facts: the avatar section restores the image and them together.
      if (f.value === null || def.type === 'image') continue;
      const checked = checkFieldValue(catalogue, def, f.value, f.field);
      if (!checked.ok) {
        skipped.push(`${f.field}: ${checked.problems.map((p) => p.message).join('; ')}`);
        continue;
      }
      writes.push({ field: f.field, value: checked.value, ring, provenance: importedProvenance(ctx, f.provenance) });
    }
    await writeFields(trx, ctx.profile, writes);
    await setFieldRings(trx, ctx.profile.id, placements);
    return { imported: writes.length, ...(skipped.length ? { skipped } : {}) };
  },
};
