// `npm run services -- …` as an operator runs it: a child process against the same database the server uses.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireDirLock } from '../../src/store/lock.ts';
import { useTestApp } from '../helpers/app.ts';
import { type CliRun, runCli } from '../helpers/cli.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp({ name: 'services-cli' });

function services(args: string[], env: Record<string, string> = { DATABASE_URL: app.databaseUrl }): Promise<CliRun> {
  return runCli('services', args, env);
}

const ADD = [
  'add',
  '--name',
  'City of Burnaby',
  '--role',
  'government',
  '--redirect-uri',
  'https://burnaby.example/cb',
  '--redirect-uri',
  'http://localhost:8080/cb',
  // Redirect URIs on two hosts: a pairwise subject (the default) would need them on one.
  '--subject-type',
  'public',
];

test('add prints the client_id and the secret once; the database keeps only its hash', async (t) => {
  // A webhook URL gets its signing secret sealed under the server's master key: the CLI needs that key.
  const run = await services([...ADD, '--webhook-url', 'https://burnaby.example/hooks'], {
    DATABASE_URL: app.databaseUrl,
    RINGFENCE_MASTER_KEY: app.kek.toString('hex'),
  });
  t.is(run.code, 0, run.stderr);
  const secret = /^client_secret: (\S+)$/m.exec(run.stdout)?.[1];
  const clientId = /^client_id:\s+(svc_\S+)$/m.exec(run.stdout)?.[1];
  t.truthy(secret);
  t.truthy(clientId);
  t.regex(run.stdout, /shown once and stored only as a hash/);
  t.regex(run.stdout, /webhook_url:\s+https:\/\/burnaby\.example\/hooks/);
  t.regex(run.stdout, /^webhook_secret: whsec_\S+$/m);
  const row = await app.service.deps.db('services').where({ client_id: clientId }).first();
  t.is(row.secret_hash, createHash('sha256').update(secret!).digest('hex'));
  t.is(row.webhook_url, 'https://burnaby.example/hooks');

  const shown = await services(['show', clientId!]);
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /role:\s+government/);
  t.regex(shown.stdout, /state:\s+enabled/);
  t.false(shown.stdout.includes(secret!), 'show never prints the secret');
});

test('add --json is parseable and carries the secret; list --json and show --json never do', async (t) => {
  const run = await services([...ADD, '--scope', 'openid email', '--json']);
  t.is(run.code, 0, run.stderr);
  const added = JSON.parse(run.stdout);
  t.like(added, { name: 'City of Burnaby', role: 'government', scope: 'openid email', disabled_at: null });
  t.deepEqual(added.redirect_uris, ['https://burnaby.example/cb', 'http://localhost:8080/cb']);
  t.true(added.client_secret.length >= 43);

  const list = await services(['list', '--json']);
  t.is(list.code, 0, list.stderr);
  const all = JSON.parse(list.stdout) as { client_id: string }[];
  t.true(all.some((s) => s.client_id === added.client_id));
  t.false(list.stdout.includes(added.client_secret));
  const shown = JSON.parse((await services(['show', added.client_id, '--json'])).stdout);
  t.is(shown.client_id, added.client_id);
  t.is(shown.client_secret, undefined);
});

test('disable stops the service at once; the admin API sees it disabled', async (t) => {
  const added = JSON.parse((await services([...ADD, '--json'])).stdout);
  const run = await services(['disable', added.client_id]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /state:\s+disabled since \d{4}-/);
  t.regex(run.stdout, /stop working now/);
  const row = await app.service.deps.db('services').where({ client_id: added.client_id }).first();
  t.truthy(row.disabled_at);
  t.is(await app.service.deps.oidc.provider.Client.find(added.client_id), undefined, 'the provider no longer knows it');
});

test('a bad role or redirect URI exits non-zero with a sentence naming what to fix, and registers nothing', async (t) => {
  const run = await services(['add', '--name', 'Never registered', '--role', 'astrologer', '--redirect-uri', 'http://x.example/cb']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^services: the service registration is invalid: role must be one of the roles in policies\/roles: .*government/);
  t.regex(run.stderr, /redirect_uris\.0 must use https/);
  t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
  t.is(await app.service.deps.db('services').where({ name: 'Never registered' }).first(), undefined);
});

test('show of an unknown client_id, and an unknown command, exit non-zero', async (t) => {
  const show = await services(['show', 'svc_nobody']);
  t.is(show.code, 1);
  t.regex(show.stderr, /^services: no service with client_id svc_nobody/);
  const unknown = await services(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command "frobnicate"/);
  t.regex(unknown.stderr, /usage: npm run services/);
});

test('operator <handle> lets that user manage services through the admin API', async (t) => {
  const someone = await register(app);
  assertError(t, await app.request('GET', '/api/v1/admin/services', { token: someone.token }), 403, 'not_an_operator');
  const run = await services(['operator', someone.person.handle.toUpperCase()]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /may now manage services/);
  t.is((await app.request('GET', '/api/v1/admin/services', { token: someone.token })).status, 200);
});

test('on the embedded database, a second process while one holds DATA_DIR is told so plainly', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ringfence-cli-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir };
  // This process takes the lock the server takes when it opens the embedded database (src/store/db.ts).
  const lock = acquireDirLock(dataDir);
  t.teardown(() => lock.release());
  const locked = await services(['list'], env);
  t.is(locked.code, 1);
  t.is(
    locked.stderr.trim(),
    `services: the embedded database in ${dataDir} is in use by process ${process.pid} (the Ringfence server?). ` +
      'Stop that process, or use the admin API, or point DATABASE_URL at PostgreSQL — the embedded database never has two writers.',
  );
});

test('webhook --format ssf makes the endpoint an SSF receiver: no secret, the configuration named; a bad format exits non-zero and changes nothing', async (t) => {
  const env = { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: app.kek.toString('hex') };
  const added = JSON.parse((await services([...ADD, '--webhook-url', 'https://burnaby.example/hooks', '--json'], env)).stdout);
  const endpoint = () => app.service.deps.db('webhook_endpoints').where({ client_id: added.client_id }).first('format', 'secret');
  t.is((await endpoint()).format, 'standard-webhooks');

  const bad = await services(['webhook', added.client_id, '--url', 'https://burnaby.example/ssf', '--format', 'risc'], env);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /--format is standard-webhooks or ssf/);
  t.is((await endpoint()).format, 'standard-webhooks', 'nothing changed');

  const run = await services(['webhook', added.client_id, '--url', 'https://burnaby.example/ssf', '--format', 'ssf', '--json'], env);
  t.is(run.code, 0, run.stderr);
  const answer = JSON.parse(run.stdout);
  t.like(answer, { client_id: added.client_id, webhook_url: 'https://burnaby.example/ssf', format: 'ssf' });
  t.is(answer.webhook_secret, undefined, 'SETs are signed with the issuer key: no secret to show');
  t.regex(answer.ssf_configuration, /\/\.well-known\/ssf-configuration$/);
  t.deepEqual(await endpoint(), { format: 'ssf', secret: null }, 'the old whsec_ secret is gone');
});
