/**
 * Extracts from the official FHIR R4 JSON Schema (fhir.schema.json, 4.0.1, from https://hl7.org/fhir/R4/fhir.schema.json.zip;
 * HL7 FHIR is CC0) the definitions of the health record types Ringfence stores and everything they reference,
 * into src/features/health/fhir/r4-health.schema.json. Only two things change: descriptions are dropped (they are
 * documentation, never rules), and `ResourceList` — what `contained` and a Bundle entry's `resource` may hold —
 * lists only the stored types, discriminated by `resourceType`, so a Bundle can only import what Ringfence keeps.
 *
 *   node src/cli/fhir-schema.ts <path of fhir.schema.json>
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TYPES = ['Immunization', 'AllergyIntolerance', 'Condition', 'MedicationStatement', 'Observation', 'DocumentReference'];
const OUT = fileURLToPath(new URL('../features/health/fhir/r4-health.schema.json', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function* refsOf(node: Json): Generator<string> {
  if (Array.isArray(node)) for (const v of node) yield* refsOf(v);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') yield v.replace('#/definitions/', '');
      else yield* refsOf(v);
    }
}

function withoutDescriptions(node: Json, inProperties = false): Json {
  if (Array.isArray(node)) return node.map((v) => withoutDescriptions(v));
  if (!node || typeof node !== 'object') return node;
  // Under `properties` the keys are element names (an element may be called `description`), not keywords.
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => inProperties || k !== 'description')
      .map(([k, v]) => [k, withoutDescriptions(v, !inProperties && k === 'properties')]),
  );
}

function main(): void {
  const input = process.argv[2];
  if (!input) {
    process.stderr.write('usage: node src/cli/fhir-schema.ts <path of the official fhir.schema.json (R4)>\n');
    process.exit(2);
  }
  const text = readFileSync(input, 'utf8');
  const source = JSON.parse(text) as { id?: string; definitions: Record<string, Json> };
  if (source.id !== 'http://hl7.org/fhir/json-schema/4.0') throw new Error(`${input} is not the FHIR R4 schema (id ${source.id})`);
  const out: Record<string, Json> = {};
  const todo = [...TYPES, 'Bundle'];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (name in out) continue;
    if (name === 'ResourceList') {
      out[name] = {
        type: 'object',
        required: ['resourceType'],
        discriminator: { propertyName: 'resourceType' },
        oneOf: TYPES.map((t) => ({ $ref: `#/definitions/${t}` })),
      };
      continue;
    }
    const def = source.definitions[name];
    if (def === undefined) throw new Error(`definition ${name} is referenced but missing`);
    out[name] = withoutDescriptions(def);
    todo.push(...refsOf(def));
  }
  const sorted = Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
  const doc = {
    $comment: `Extracted by src/cli/fhir-schema.ts from the official FHIR R4 (4.0.1) JSON Schema, fhir.schema.json (the input's sha256 ${createHash('sha256').update(text).digest('hex')}), https://hl7.org/fhir/R4/fhir.schema.json.zip. HL7 FHIR is published under CC0 (https://hl7.org/fhir/R4/license.html). Descriptions dropped; ResourceList limited to the stored types.`,
    definitions: sorted,
  };
  writeFileSync(OUT, `${JSON.stringify(doc)}\n`);
  process.stdout.write(`${OUT}: ${Object.keys(sorted).length} definitions\n`);
}

main();
