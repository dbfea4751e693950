/** A health record's resource sealed under the profile's key, bound to its row (AAD `health_records:<id>`). */
import { openForProfile, sealForProfile, type OpenProfile } from '../../disclosure/container.ts';
import type { FhirResource } from './fhir.ts';

const recordAad = (id: string) => `health_records:${id}`;

/** The resource of a record row, with the record's id as its FHIR id. */
export function openRecord(profile: OpenProfile, row: { id: string; resource: Uint8Array }): FhirResource {
  return { ...(JSON.parse(openForProfile(profile, row.resource, recordAad(row.id)).toString('utf8')) as FhirResource), id: row.id };
}

/** Seals a resource for record `id`; whatever id it came with (another system's) is not kept: the record's is. */
export function sealRecord(profile: OpenProfile, id: string, resource: FhirResource): Buffer {
  const { id: _ignored, ...rest } = resource;
  return sealForProfile(profile, JSON.stringify(rest), recordAad(id));
}
