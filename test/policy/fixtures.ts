/** Policy sets for tests: the repository's policies/, with files replaced or added, held in memory or on disk. */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { POLICIES_DIR } from '../../src/policy/catalogue.ts';
import { memoryPolicySet, type PolicySet } from '../../src/policy/sources.ts';
import { compilePolicies, type Policies } from '../../src/policy/load.ts';

function walk(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(full).isDirectory()) Object.assign(out, walk(full, rel));
    else out[rel] = readFileSync(full, 'utf8');
  }
  return out;
}

/** The real policy files, as a map of relative path → text. */
export function policyFiles(): Record<string, string> {
  return walk(POLICIES_DIR);
}

/** The real policies with some files replaced (a value of null removes the file). */
export function policySetWith(changes: Record<string, string | null> = {}, name = 'policies'): PolicySet {
  const files = policyFiles();
  for (const [rel, text] of Object.entries(changes)) {
    if (text === null) delete files[rel];
    else files[rel] = text;
  }
  return memoryPolicySet(files, name);
}

export function policiesWith(changes: Record<string, string | null> = {}): Policies {
  return compilePolicies(policySetWith(changes));
}

/** A throwaway copy of policies/ on disk; `remove` deletes it. */
export function tempPolicies(): {
  dir: string;
  root: string;
  write(rel: string, text: string): void;
  edit(rel: string, fn: (text: string) => string): void;
  remove(): void;
} {
  const root = mkdtempSync(path.join(tmpdir(), 'ringfence-policies-'));
  const dir = path.join(root, 'policies');
  cpSync(POLICIES_DIR, dir, { recursive: true });
  return {
    dir,
    root,
    write: (rel, text) => writeFileSync(path.join(dir, rel), text),
    edit: (rel, fn) => writeFileSync(path.join(dir, rel), fn(readFileSync(path.join(dir, rel), 'utf8'))),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A ring policy of about `bytes` bytes: `version: 1` and then unknown top-level keys. */
export function unknownKeys(bytes: number): string {
  const lines = ['version: 1'];
  for (let i = 0, size = 11; size < bytes; i++) size += lines[lines.push(`k${i}: 1`) - 1].length + 1;
  return `${lines.join('\n')}\n`;
}

/** A ring policy of about `bytes` bytes whose one custom ring admits a long list of roles that do not exist. */
export function unknownRoles(bytes: number): string {
  const lines = ['version: 1', 'custom_rings:', '  - name: a', '    fields: [bio]', '    roles:'];
  for (let i = 0, size = 60; size < bytes; i++) size += lines[lines.push(`      - r${i}`) - 1].length + 1;
  return `${lines.join('\n')}\n`;
}
