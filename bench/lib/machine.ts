/** The machine and the software a run measured, so a number is never read without what produced it. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { NODE, ROOT } from './processes.ts';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  /** The server's durability settings as it reports them (SHOW): production's, all on, unless a run says otherwise. */
  durability: Record<(typeof DURABILITY)[number], string>;
  autocannon: string;
  commit: string;
  /** Uncommitted changes when the run started. */
  dirty: boolean;
}

const DURABILITY = ['fsync', 'synchronous_commit', 'full_page_writes'] as const;

function git(args: string[]): string {
  const res = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : '';
}

export async function machineInfo(adminUrl: string): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('show server_version');
  const durability = {} as MachineInfo['durability'];
  for (const setting of DURABILITY) {
    const { rows: shown } = await client.query<Record<string, string>>(`show ${setting}`);
    durability[setting] = shown[0][setting];
  }
  await client.end();
  const node = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const autocannon = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }).version;
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node,
    postgres: rows[0].server_version,
    durability,
    autocannon,
    commit: git(['rev-parse', '--short=12', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  };
}

/** The PostgreSQL server's postmaster: the parent of the backend serving a connection. */
export async function postmasterPid(adminUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    // Read while the connection is open: its backend exits with it.
    const match = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${rows[0].pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}
