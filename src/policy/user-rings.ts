/**
 * A person's ring policy as a YAML file: where they placed fields and their custom rings. The same JSON Schema
 * (policies/schema/user-rings.schema.json) and the same meaning checks serve uploads, policy test cases and the
 * CLI's --user-rings.
 */
import YAML from 'yaml';
import { PolicyError, ProblemList, type PolicyProblem } from './problems.ts';
import { SCHEMA } from './schemas.ts';
import { parseYaml, type YamlFile } from './yaml.ts';
import type { Policies } from './load.ts';
import type { UserRings } from './placements.ts';

interface CustomRingDocument {
  name: string;
  description?: string;
  fields: string[];
  roles?: string[];
  services?: string[];
}

/** The file's shape, as the schema defines it. */
export interface UserRingsDocument {
  version: 1;
  placements?: Record<string, string>;
  custom_rings?: CustomRingDocument[];
}

type At = (string | number)[];

/**
 * The meaning checks beyond the schema; `at` prefixes paths when the settings sit inside another file. Past
 * MAX_REPORTED_PROBLEMS problems are counted, not described (`problem` looks up a line).
 */
export function checkUserRings(
  policies: Policies,
  doc: Pick<UserRingsDocument, 'placements' | 'custom_rings'>,
  problem: (at: At, message: string, key?: boolean) => PolicyProblem,
  at: At = [],
): PolicyProblem[] {
  const found = new ProblemList();
  const problems = { push: (where: At, message: () => string, key?: boolean) => found.add(() => problem(where, message(), key)) };
  const rings = policies.rings.map((r) => r.name);
  const fieldProblem = (field: string, where: At, key = false) => {
    if (policies.fields.has(field)) return false;
    const whole = policies.leafField.get(field);
    problems.push(
      where,
      () => (whole ? `${field}: rings hold whole fields; place ${whole} instead` : `${field} is not a catalogued field (see policies/fields.yaml)`),
      key,
    );
    return true;
  };
  const placed = new Map<string, string>();
  for (const [field, ring] of Object.entries(doc.placements ?? {})) {
    const where = [...at, 'placements', field];
    fieldProblem(field, where, true);
    if (!rings.includes(ring)) {
      problems.push(where, () => `${field}: ${ring} is not a default ring (${rings.join(', ')}); put it in a custom ring under custom_rings instead`);
    }
    placed.set(field, 'placements');
  }
  const names = new Map<string, number>();
  (doc.custom_rings ?? []).forEach((ring, i) => {
    const where = [...at, 'custom_rings', i];
    const lower = ring.name.toLowerCase();
    if (rings.includes(lower)) problems.push([...where, 'name'], () => `${ring.name} is a default ring: move fields there with placements`);
    else if (names.has(lower))
      problems.push([...where, 'name'], () => `custom ring ${ring.name} is defined twice (also item ${names.get(lower)! + 1})`);
    names.set(lower, i);
    ring.fields.forEach((field, j) => {
      if (fieldProblem(field, [...where, 'fields', j])) return;
      const other = placed.get(field);
      if (other) {
        problems.push([...where, 'fields', j], () => `${field} is already placed in ${other}: a field sits in exactly one ring`);
      }
      placed.set(field, `custom ring ${ring.name}`);
    });
    (ring.roles ?? []).forEach((role, j) => {
      if (role === 'public')
        problems.push([...where, 'roles', j], () => 'a custom ring cannot admit the public: move the fields to the public ring instead');
      else if (!policies.roles.has(role))
        problems.push([...where, 'roles', j], () => `${role} is not a role (${[...policies.roles.keys()].filter((r) => r !== 'public').join(', ')})`);
    });
  });
  return found.list();
}

/** Settings from a checked document; custom rings carry no id until stored. */
export function userRingsFromDocument(doc: Pick<UserRingsDocument, 'placements' | 'custom_rings'>): UserRings {
  return {
    placements: { ...(doc.placements ?? {}) },
    custom: (doc.custom_rings ?? []).map((r) => ({
      name: r.name,
      ...(r.description ? { description: r.description } : {}),
      fields: [...r.fields],
      roles: [...(r.roles ?? [])],
      services: [...(r.services ?? [])],
    })),
  };
}

/** Parses and checks a ring policy file; throws a PolicyError with file, line and reason. */
export function parseUserRingsFile(
  policies: Policies,
  text: string,
  file: string,
): { document: UserRingsDocument; rings: UserRings; yaml: YamlFile } {
  const parsed = parseYaml(file, text);
  if (!parsed.yaml) throw new PolicyError(parsed.problems, 'invalid ring policy');
  const yaml = parsed.yaml;
  if (yaml.data === null || typeof yaml.data !== 'object' || Array.isArray(yaml.data)) {
    throw new PolicyError(
      [{ file, line: 1, message: 'a ring policy is a YAML mapping with version, placements and custom_rings' }],
      'invalid ring policy',
    );
  }
  const invalid = policies.schemas.check(SCHEMA.userRings, yaml);
  if (invalid.length > 0) throw new PolicyError(invalid, 'invalid ring policy');
  const document = yaml.data as UserRingsDocument;
  const problems = checkUserRings(policies, document, (at, message, key) => yaml.problem(at, message, { key }));
  if (problems.length > 0) throw new PolicyError(problems, 'invalid ring policy');
  return { document, rings: userRingsFromDocument(document), yaml };
}

/** The settings as a ring policy file, with a header saying what it is. */
export function userRingsToYaml(policies: Policies, rings: UserRings, heading?: string): string {
  const placements: Record<string, string> = {};
  for (const [field, ring] of Object.entries(rings.placements)) {
    if (policies.ringRank.has(ring) && policies.fields.get(field)?.ring !== ring) placements[field] = ring;
  }
  const doc: UserRingsDocument = { version: 1 };
  if (Object.keys(placements).length > 0) doc.placements = placements;
  if (rings.custom.length > 0) {
    doc.custom_rings = rings.custom.map((r) => ({
      name: r.name,
      ...(r.description ? { description: r.description } : {}),
      fields: [...r.fields],
      ...(r.roles.length > 0 ? { roles: [...r.roles] } : {}),
      ...(r.services.length > 0 ? { services: [...r.services] } : {}),
    }));
  }
  const header = [
    ...(heading ? [heading] : []),
    'placements: field -> default ring it is moved to (fields not listed stay in their default ring).',
    'custom_rings: named sets of fields and exactly the roles and services (client_ids) they admit.',
    `A ceiling is never widened: policies/README.md. Policy revision ${policies.revision}.`,
  ];
  return `${header.map((l) => `# ${l}`).join('\n')}\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}
