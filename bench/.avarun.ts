import { spawnSync } from 'node:child_process';
import { startPostgres } from '../test/helpers/postgres.ts';
const server = await startPostgres();
try {
  const r = spawnSync(new URL('../node_modules/.bin/ava', import.meta.url).pathname, process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, PATH: new URL('../node_modules/.bin', import.meta.url).pathname + ':' + process.env.PATH, RINGFENCE_TEST_ADMIN_URL: server.url, DATABASE_URL: '' } });
  process.exitCode = r.status ?? 1;
} finally { server.stop(); }
