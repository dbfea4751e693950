/** A command-line entry point of src/cli/ run as an operator runs it: a child process on the project's Node.js. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = path.join(ROOT, 'node_modules/.bin/node');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `src/cli/<name>.ts` with `args` and only PATH, HOME and `env` in its environment; never rejects. */
export function runCli(name: string, args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [path.join(ROOT, 'src/cli', `${name}.ts`), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}
