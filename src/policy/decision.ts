/**
 * What a decision is: the fields (and properties of structured fields) one reader may see under one policy
 * revision, and the projection of a profile's values onto them.
 */
import type { Policies } from './load.ts';

/** A path that names no catalogued field or property. */
export class UnknownField extends Error {
  constructor(path: string) {
    super(`${path} is not a catalogued field or property (see policies/fields.yaml)`);
    this.name = 'UnknownField';
  }
}

/** The fields one reader may see, under one policy revision. */
export class Decision {
  readonly revision: string;
  readonly reader: string;
  /** Whole fields when every part is readable, else the readable properties; catalogue order. */
  readonly fields: readonly string[];
  readonly leaves: ReadonlySet<string>;
  readonly #policies: Policies;
  /** Fields readable whole. */
  readonly #whole = new Set<string>();
  /** Structured fields readable in part: the readable properties. */
  readonly #partial = new Map<string, string[]>();

  constructor(policies: Policies, reader: string, leaves: ReadonlySet<string>) {
    this.#policies = policies;
    this.revision = policies.revision;
    this.reader = reader;
    this.leaves = leaves;
    const fields: string[] = [];
    for (const def of policies.fields.values()) {
      const readable = def.leaves.filter((l) => leaves.has(l));
      if (readable.length === def.leaves.length) {
        fields.push(def.name);
        this.#whole.add(def.name);
      } else if (readable.length > 0) {
        fields.push(...readable);
        this.#partial.set(
          def.name,
          readable.map((l) => l.slice(def.name.length + 1)),
        );
      }
    }
    this.fields = Object.freeze(fields);
    Object.freeze(this);
  }

  /** Whether the whole of `path` (a field or a property) is readable. */
  can(path: string): boolean {
    const leaves = leavesOf(this.#policies, path);
    return leaves.length > 0 && leaves.every((l) => this.leaves.has(l));
  }

  /** The readable part of a profile's values: whole fields, or the readable properties of a structured one. */
  project(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(values)) {
      const value = values[name];
      if (value === undefined) continue;
      if (this.#whole.has(name)) {
        out[name] = value;
        continue;
      }
      const props = this.#partial.get(name);
      if (props && value && typeof value === 'object' && !Array.isArray(value)) {
        const part: Record<string, unknown> = {};
        for (const prop of props) if (Object.hasOwn(value, prop)) part[prop] = (value as Record<string, unknown>)[prop];
        out[name] = part;
      }
    }
    return out;
  }
}

/** Leaves under a field or property path; empty when the path is not catalogued. */
export function leavesOf(policies: Policies, path: string): readonly string[] {
  const field = policies.fields.get(path);
  if (field) return field.leaves;
  return policies.leafField.has(path) ? [path] : [];
}

/** Leaves grouped back into whole fields where every part is present; catalogue order. */
export function canonicalFields(policies: Policies, leaves: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const def of policies.fields.values()) {
    const readable = def.leaves.filter((l) => leaves.has(l));
    if (readable.length === def.leaves.length) out.push(def.name);
    else out.push(...readable);
  }
  return out;
}
