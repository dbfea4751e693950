/**
 * FHIR R4 resources as Ringfence keeps them: the six record types, validated against the official FHIR R4 JSON
 * Schema (the extract in ./fhir/r4-health.schema.json, made by src/cli/fhir-schema.ts), compiled once, on first use.
 *
 * How a record relates to the policy: each type is governed by one catalogue field (policies/fields.yaml), whose
 * ring — private by default, wherever the person placed it — is the ring of every record of that type, and which a
 * reader must be allowed to read for the records to be released to it.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ErrorDetail } from '../../errors.ts';

/** Each stored type and the catalogue field that governs it (its ring, who may read it). */
export const GOVERNING_FIELD = {
  Immunization: 'immunizations',
  AllergyIntolerance: 'allergies',
  Condition: 'medical_conditions',
  MedicationStatement: 'medications',
  // Findings (vital signs, results) and clinical documents are what a clinician should know about the person's
  // conditions: the catalogue has no narrower field for them.
  Observation: 'medical_conditions',
  DocumentReference: 'medical_conditions',
} as const;

export type RecordType = keyof typeof GOVERNING_FIELD;
export const RECORD_TYPES = Object.keys(GOVERNING_FIELD) as RecordType[];

export type FhirResource = { resourceType: string; id?: string; [k: string]: unknown };

const SCHEMA_PATH = new URL('./fhir/r4-health.schema.json', import.meta.url);
const MAX_DETAILS = 10;

let validators: Record<RecordType | 'Bundle', ValidateFunction> | undefined;

function compiled() {
  if (!validators) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { definitions: Record<string, unknown> };
    // The schema's own dialect is draft-06; its keywords mean the same under ajv's default (draft-07).
    const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
    ajv.addSchema({ $id: 'fhir', definitions: schema.definitions });
    const one = (name: string) => ajv.getSchema(`fhir#/definitions/${name}`)!;
    validators = Object.fromEntries([...RECORD_TYPES, 'Bundle'].map((t) => [t, one(t)])) as Record<RecordType | 'Bundle', ValidateFunction>;
  }
  return validators;
}

/** A JSON pointer as a FHIR path: /vaccineCode/coding/0/system → Immunization.vaccineCode.coding[0].system. */
function fhirPath(root: string, pointer: string): string {
  let path = root;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return path;
}

function details(root: string, errors: ErrorObject[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // A oneOf over the stored types only repeats what the discriminated branch said.
    if (e.keyword === 'oneOf') continue;
    let path = fhirPath(root, e.instancePath);
    let message = `${e.message ?? 'is invalid'} (FHIR R4 schema: ${e.keyword})`;
    if (e.keyword === 'required') {
      path += `.${(e.params as { missingProperty: string }).missingProperty}`;
      message = 'is required (FHIR R4 schema: required)';
    } else if (e.keyword === 'additionalProperties') {
      path += `.${(e.params as { additionalProperty: string }).additionalProperty}`;
      message = 'is not an element of this type (FHIR R4 schema: additionalProperties)';
    } else if (e.keyword === 'pattern') {
      message = `must match the FHIR format ${(e.params as { pattern: string }).pattern} (FHIR R4 schema: pattern)`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')} (FHIR R4 schema: enum)`;
    } else if (e.keyword === 'discriminator') {
      path += '.resourceType';
      message = `must be one of ${RECORD_TYPES.join(', ')}`;
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
    if (out.length === MAX_DETAILS) break;
  }
  return out;
}

/** The problems of `resource` as one of the stored types, each naming its FHIR path and rule; empty when valid. */
export function checkResource(resource: FhirResource): ErrorDetail[] {
  const type = resource.resourceType;
  if (!Object.hasOwn(GOVERNING_FIELD, type)) return [{ path: 'resourceType', message: `must be one of ${RECORD_TYPES.join(', ')}` }];
  const validate = compiled()[type as RecordType];
  return validate(resource) ? [] : details(type, validate.errors ?? []);
}

/** The problems of a FHIR Bundle whose entries are of the stored types; empty when valid. */
export function checkBundle(bundle: FhirResource): ErrorDetail[] {
  if (bundle.resourceType !== 'Bundle') return [{ path: 'resourceType', message: 'must be "Bundle"' }];
  const validate = compiled().Bundle;
  return validate(bundle) ? [] : details('Bundle', validate.errors ?? []);
}

/** A record as a Bundle entry presents it. */
export interface BundleRecord {
  id: string;
  resource: FhirResource;
}

/** A FHIR Bundle of type `collection` holding `records` (each resource with its Ringfence id). */
export function toBundle(records: readonly BundleRecord[], timestamp: Date): FhirResource {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: timestamp.toISOString(),
    entry: records.map((r) => ({
      fullUrl: `urn:uuid:${r.id}`,
      resource: { ...r.resource, id: r.id },
    })),
  };
}

/** The content types a DocumentReference attachment may carry, and how the start of each such file reads. */
const ATTACHMENT_MAGIC: Record<string, (b: Buffer) => boolean> = {
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
};

/**
 * What the FHIR schema cannot say about a DocumentReference: each attachment is a PDF or an image, and inline data
 * is what its content type says.
 */
export function checkAttachments(resource: FhirResource): ErrorDetail[] {
  if (resource.resourceType !== 'DocumentReference') return [];
  const out: ErrorDetail[] = [];
  const content = (resource.content as { attachment?: { contentType?: string; data?: string } }[] | undefined) ?? [];
  content.forEach((c, i) => {
    const path = `DocumentReference.content[${i}].attachment`;
    const type = c.attachment?.contentType;
    if (!type || !Object.hasOwn(ATTACHMENT_MAGIC, type)) {
      out.push({ path: `${path}.contentType`, message: `must be one of ${Object.keys(ATTACHMENT_MAGIC).join(', ')}` });
      return;
    }
    if (c.attachment?.data !== undefined && !ATTACHMENT_MAGIC[type](Buffer.from(c.attachment.data, 'base64'))) {
      out.push({ path: `${path}.data`, message: `is not a ${type} file` });
    }
  });
  return out;
}
