/**
 * Health records: each FHIR resource as the person stored it, in order. Links to doctors are not carried: their
 * tokens and keys belong to the old instance (the person makes new links here).
 */
import { randomUUID } from 'node:crypto';
import type { FhirResource } from '../../health/fhir.ts';
import { insertRecord, listRecords } from '../../health/health.repo.ts';
import { openRecord, sealRecord } from '../../health/sealed.ts';
import type { PortableSection } from './section.ts';

interface ExportedRecord {
  resource_type: string;
  resource: FhirResource;
  created_at: string;
}

export const healthSection: PortableSection = {
  name: 'health_records',
  version: 1,
  async export(trx, { userId, profile }) {
    return (await listRecords(trx, userId, {})).map((r) => {
      const { id: _id, ...resource } = openRecord(profile, r);
      return { resource_type: r.resource_type, resource, created_at: new Date(r.created_at).toISOString() };
    });
  },
  async import(trx, ctx, data) {
    const skipped: string[] = [];
    let imported = 0;
    for (const [i, r] of (data as ExportedRecord[]).entries()) {
      if (typeof r.resource?.resourceType !== 'string' || r.resource.resourceType !== r.resource_type) {
        skipped.push(`health record ${i}: not a FHIR resource of type ${r.resource_type}`);
        continue;
      }
      const id = randomUUID();
      await insertRecord(trx, {
        id,
        user_id: ctx.userId,
        resource_type: r.resource_type,
        resource: sealRecord(ctx.profile, id, r.resource),
        created_at: new Date(r.created_at),
      });
      imported++;
    }
    return { imported, ...(skipped.length ? { skipped } : {}) };
  },
};
