/** The real entry point as a child process, for the tests that kill it (SIGKILL) and start it again. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { logFileFor } from './app.ts';

const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Starts `node src/main.ts` with its output in test/artifacts/logs/, and waits until /readyz answers 200. The child
 * is added to `started` (when given) before the wait, so a test's cleanup kills it even when it never got ready.
 */
export async function startServer(name: string, env: Record<string, string>, url: string, started?: ChildProcess[]): Promise<ChildProcess> {
  const log = openSync(logFileFor(name), 'a');
  const child = spawn(NODE, [MAIN], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
  closeSync(log);
  started?.push(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: see ${logFileFor(name)}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server was not ready within a minute: see ${logFileFor(name)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
