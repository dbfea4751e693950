/** Where policy files come from: a directory, a git revision, or memory; read through one interface. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/** Read access to one policies/ tree, wherever it lives. Paths are relative to policies/, with `/`. */
export interface PolicySet {
  /** How a file is named in messages: `policies/roles/commercial.yaml`, `HEAD~1:policies/rings.yaml`. */
  label(rel: string): string;
  read(rel: string): string | undefined;
  /** Files (not folders) directly inside `relDir`, sorted. */
  list(relDir: string): string[];
}

export function fsPolicySet(dir: string): PolicySet {
  const shown = path.relative(process.cwd(), dir) || '.';
  const display = shown.startsWith('..') ? dir : shown;
  return {
    label: (rel) => path.join(display, rel),
    read: (rel) => {
      const file = path.join(dir, rel);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
    },
    list: (relDir) => {
      const d = path.join(dir, relDir);
      if (!existsSync(d)) return [];
      return readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
    },
  };
}

/** The policies/ tree as committed at a git revision of the repository that holds `dir`. */
export function gitPolicySet(ref: string, dir: string): PolicySet {
  const real = realpathSync(dir);
  const git = (...args: string[]) => execFileSync('git', ['-C', real, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let top: string;
  try {
    top = git('rev-parse', '--show-toplevel').trim();
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch (err) {
    const why = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`cannot read git revision ${ref} of ${dir}: ${why || 'unknown revision'}`);
  }
  const prefix = path.relative(top, real).split(path.sep).join('/');
  // ls-tree takes paths relative to the working directory: run it from the top of the repository.
  const files = new Set(
    execFileSync('git', ['-C', top, 'ls-tree', '-r', '--name-only', ref, '--', prefix], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.slice(prefix.length + 1)),
  );
  return {
    label: (rel) => `${ref}:${prefix}/${rel}`,
    read: (rel) => (files.has(rel) ? git('show', `${ref}:${prefix}/${rel}`) : undefined),
    list: (relDir) =>
      [...files]
        .filter((f) => path.posix.dirname(f) === relDir)
        .map((f) => path.posix.basename(f))
        .sort(),
  };
}

/** Policy files held in memory (synthetic catalogues in benchmarks and tests). */
export function memoryPolicySet(files: Readonly<Record<string, string>>, name = 'memory'): PolicySet {
  return {
    label: (rel) => `${name}:${rel}`,
    read: (rel) => files[rel],
    list: (relDir) =>
      Object.keys(files)
        .filter((f) => path.posix.dirname(f) === relDir)
        .map((f) => path.posix.basename(f))
        .sort(),
  };
}
