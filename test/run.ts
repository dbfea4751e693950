/**
 * `npm test`: type-check, lint (Biome, dependency-cruiser, knip), validate and test the policy files, start one real
 * PostgreSQL for the run (unless DATABASE_URL names one), run every ava test file against it, stop it. Each test file makes its own database on that server.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startPostgres, type PgServer } from './helpers/postgres.ts';
import { scanLogs } from './security/log-scan.ts';

const bin = (name: string) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

const typecheck = spawnSync(bin('tsc'), ['-p', 'tsconfig.json'], { stdio: 'inherit' });
if (typecheck.status !== 0) {
  process.stderr.write('type check failed\n');
  process.exit(typecheck.status ?? 1);
}

// The house's own rules before any test: format and lint (Biome), imports that point down the layers with no cycle
// (dependency-cruiser, .dependency-cruiser.cjs), no unused file, export or dependency (knip). `npm run format` fixes
// what Biome can.
for (const [tool, args] of [
  ['biome', ['ci', '.']],
  ['depcruise', ['src']],
  ['knip', ['--no-progress']],
] as const) {
  const check = spawnSync(bin(tool), args, { stdio: 'inherit' });
  if (check.status !== 0) {
    process.stderr.write(`${tool} failed: see above (npm run lint runs the same checks)\n`);
    process.exit(check.status ?? 1);
  }
}

// The policy files are part of the product: they must validate and their own test cases must pass.
for (const command of ['validate', 'test']) {
  const policy = spawnSync(process.execPath, [new URL('../src/cli/policy.ts', import.meta.url).pathname, command], { stdio: 'inherit' });
  if (policy.status !== 0) {
    process.stderr.write(`npm run policy -- ${command} failed\n`);
    process.exit(policy.status ?? 1);
  }
}

// Each run's logs stand alone: the secret scan (and a person reading them) sees only this run.
rmSync(new URL('./artifacts/logs/', import.meta.url), { recursive: true, force: true });

// Secret scan (issue 7): every test process records the credentials it uses (test/security/record-secrets.ts).
const secretsDir = new URL('./artifacts/secrets/', import.meta.url).pathname;
rmSync(secretsDir, { recursive: true, force: true });
const recordSecretsOption = [process.env.NODE_OPTIONS, `--import=${new URL('./security/record-secrets.ts', import.meta.url).pathname}`]
  .filter(Boolean)
  .join(' ');

let server: PgServer | undefined;
let adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  server = await startPostgres();
  adminUrl = server.url;
  process.stdout.write(`test PostgreSQL (${server.source} binaries) at ${adminUrl}\n`);
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
    env: { ...process.env, RINGFENCE_TEST_ADMIN_URL: adminUrl, DATABASE_URL: '', NODE_OPTIONS: recordSecretsOption },
  });
  status = ava.status ?? 1;
} finally {
  stop();
}

// ---- Secret scan (issue 7): after every test file, look for every recorded secret in every log. ----
{
  const scan = scanLogs(new URL('./artifacts/logs/', import.meta.url).pathname, secretsDir);
  process.stdout.write(`secret scan: ${scan.secrets} secrets looked for in ${scan.lines} lines of ${scan.files} logs: ${scan.hits.length} found\n`);
  for (const hit of scan.hits) process.stderr.write(`  a ${hit.kind} a test used is in ${hit.file}:${hit.line}\n`);
  if (scan.hits.length > 0 && status === 0) status = 1;
}
process.exit(status);
