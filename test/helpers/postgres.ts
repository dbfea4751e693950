/**
 * A throwaway real PostgreSQL server for one test run: initdb into a temp dir, a random loopback port, run as the
 * `postgres` user when we are root (the server refuses to run as root), stopped and removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PgServer {
  url: string;
  /** The server's log file (inside its throwaway directory: copy it before stop()). */
  logFile: string;
  stop(): void;
  /** Stops the server as a crash would (immediate: no checkpoint, recovery from the WAL) and starts it again. */
  crashAndRestart(): void;
}

export interface PgOptions {
  /**
   * fsync, synchronous commit and full-page writes on, as in production: what a crash test needs. The default
   * trades durability for speed, which is right for every other test.
   */
  durable?: boolean;
}

/** The newest PostgreSQL server binaries on this machine. */
export function findPgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql: apt-get install postgresql (or set DATABASE_URL)');
  }
  return path.join(root, versions[0], 'bin');
}

/** A free loopback port (the kernel picks it; free when this resolves, so take it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(pgOptions: PgOptions = {}): Promise<PgServer> {
  const bin = findPgBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'ringfence-pg-'));
  const data = path.join(dir, 'data');
  chmodSync(dir, 0o755);
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (cmd: string, args: string[]) => {
    const full = path.join(bin, cmd);
    const res = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8' })
      : spawnSync(full, args, { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`${cmd} failed: ${res.stderr || res.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=200',
    // Durability is what the crash tests check on purpose; the rest of the suite trades it for speed.
    ...(pgOptions.durable
      ? ['-c fsync=on', '-c synchronous_commit=on', '-c full_page_writes=on']
      : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  const start = () => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  start();
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    logFile: path.join(dir, 'server.log'),
    crashAndRestart() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      start();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
