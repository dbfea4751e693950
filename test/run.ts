/**
 * `npm test`: type-check, validate and test the policy files, start one real PostgreSQL for the run (unless DATABASE_URL names one), run every ava test
 * file against it, stop it. Each test file makes its own database on that server.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startPostgres, type PgServer } from './helpers/postgres.ts';

const bin = (name: string) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

const typecheck = spawnSync(bin('tsc'), ['-p', 'tsconfig.json'], { stdio: 'inherit' });
if (typecheck.status !== 0) {
  process.stderr.write('type check failed\n');
  process.exit(typecheck.status ?? 1);
}

// The policy files are part of the product: they must validate and their own test cases must pass.
for (const command of ['validate', 'test']) {
  const policy = spawnSync(process.execPath, [new URL('../src/policy/cli.ts', import.meta.url).pathname, command], { stdio: 'inherit' });
  if (policy.status !== 0) {
    process.stderr.write(`npm run policy -- ${command} failed\n`);
    process.exit(policy.status ?? 1);
  }
}

// Each run's logs stand alone: the secret scan (and a person reading them) sees only this run.
rmSync(new URL('./artifacts/logs/', import.meta.url), { recursive: true, force: true });

let server: PgServer | undefined;
let adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  server = await startPostgres();
  adminUrl = server.url;
  process.stdout.write(`test PostgreSQL at ${adminUrl}\n`);
}
const stop = () => server?.stop();
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});

let status = 1;
try {
  const args = process.argv.slice(2);
  const ava = spawnSync(bin('ava'), args, {
    stdio: 'inherit',
    env: { ...process.env, RINGFENCE_TEST_ADMIN_URL: adminUrl, DATABASE_URL: '' },
  });
  status = ava.status ?? 1;
} finally {
  stop();
}
process.exit(status);
