/**
 * Government credentials: each confirmed credential's kept photo, extraction, checks and the fields it applied,
 * re-sealed on import under this instance's profile key with a new id (the old instance's ids are its own). The
 * profile fields they verified keep pointing at them: `credential:<old id>` becomes `imported:<issuer>:credential:<new
 * id>` (sections.ts restores credentials before fields), marked verified by the other instance, never as read here.
 * A pending credential is not restored — confirming it here would mark as verified by this instance a reading it never
 * made — nor a rejected one, which holds nothing.
 */
import { randomUUID } from 'node:crypto';
import { typeByCode } from '../../credentials/catalogue.ts';
import {
  type AppliedField,
  type CheckResult,
  insertCarriedCredential,
  listCredentialRows,
  openChecks,
  openExtraction,
  openImage,
} from '../../credentials/credentials.repo.ts';
import { dateOf, importedProvenance, type PortableSection } from './section.ts';

interface ExportedCredential {
  id: string;
  type: string;
  state: string;
  image_type: string | null;
  image: string | null;
  extraction: unknown;
  checks: CheckResult[];
  applied_fields: AppliedField[];
  created_at: string;
  decided_at: string | null;
}

/** At most this many credentials are read from one container (a person adds them one photo at a time). */
const MAX_CREDENTIALS = 100;
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);

export const credentialsSection: PortableSection = {
  name: 'credentials',
  version: 1,
  async export(trx, { profile }) {
    const rows = await listCredentialRows(trx, profile.id, 10_000);
    const out: ExportedCredential[] = [];
    for (const listed of rows.reverse()) {
      // The list leaves the image out; it is read one credential at a time.
      const row = { ...listed, image: ((await trx('credentials').where({ id: listed.id }).first('image')) as { image: Uint8Array | null }).image };
      out.push({
        id: row.id,
        type: row.type,
        state: row.state,
        image_type: row.image_type,
        image: openImage(profile, row)?.toString('base64') ?? null,
        extraction: openExtraction(profile, row) ?? null,
        checks: openChecks(profile, row),
        applied_fields: row.applied_fields,
        created_at: new Date(row.created_at).toISOString(),
        decided_at: row.decided_at ? new Date(row.decided_at).toISOString() : null,
      });
    }
    return out;
  },
  async import(trx, ctx, data) {
    const skipped: string[] = [];
    let imported = 0;
    for (const [i, c] of (data as ExportedCredential[]).entries()) {
      if (i >= MAX_CREDENTIALS) {
        skipped.push(`credentials after the first ${MAX_CREDENTIALS}: not restored`);
        break;
      }
      const label = `credential ${i} (${String(c.type).slice(0, 40)})`;
      if (c.state !== 'confirmed') {
        skipped.push(
          c.state === 'pending_confirmation'
            ? `${label}: pending confirmation; add the card again here to read and confirm it on this instance`
            : `${label}: rejected, nothing of it was kept`,
        );
        continue;
      }
      const image = typeof c.image === 'string' ? Buffer.from(c.image, 'base64') : undefined;
      if (!typeByCode(c.type) || !image || c.image_type !== 'image/jpeg' || !image.subarray(0, 3).equals(JPEG) || !Array.isArray(c.checks)) {
        skipped.push(`${label}: not a credential this instance keeps`);
        continue;
      }
      const id = randomUUID();
      ctx.credentialIds.set(c.id, id);
      await insertCarriedCredential(trx, ctx.profile, {
        id,
        type: c.type,
        image,
        imageType: c.image_type,
        extraction: c.extraction,
        checks: c.checks.map((k) => ({
          check: String(k.check),
          passed: k.passed === true ? true : k.passed === false ? false : null,
          message: String(k.message),
        })),
        appliedFields: (c.applied_fields ?? []).map((a) => ({ field: String(a.field), provenance: importedProvenance(ctx, String(a.provenance)) })),
        createdAt: dateOf(c.created_at),
        decidedAt: c.decided_at ? dateOf(c.decided_at) : null,
      });
      imported++;
    }
    return { imported, ...(skipped.length ? { skipped } : {}) };
  },
};
