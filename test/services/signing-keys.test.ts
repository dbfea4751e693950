// Rotating the provider's signing keys with `npm run keys -- rotate`: after a restart new ID tokens are signed with
// the new key, and the JWKS still publishes the retired one, so tokens signed before still verify.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireDirLock } from '../../src/store/lock.ts';
import { startTestApp, type TestApp, useTestApp } from '../helpers/app.ts';
import { type CliRun, runCli } from '../helpers/cli.ts';
import { decodeJwt, discover, fetchJwks, registerClient, tokensFor, verifiesWithJwks } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';

const app = useTestApp();
let restarted: TestApp | undefined;
test.after.always(async () => {
  await restarted?.close();
});

function keys(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runCli('keys', args, env);
}

test.serial('after rotation and a restart, new ID tokens carry the new kid and old ones still verify against the JWKS', async (t) => {
  const env = { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: app.kek.toString('hex') };
  const person = await registerPerson(app);
  const { service, clientSecret, config } = await registerClient(app, 'government');
  const before = await tokensFor(app, config, person.person, 'openid email');
  const oldKid = decodeJwt(before.id_token!).header.kid;
  const jwksBefore = await fetchJwks(app);
  t.deepEqual(jwksBefore.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
  t.true(verifiesWithJwks(before.id_token!, jwksBefore));

  const listed = await keys(['list', '--json'], { DATABASE_URL: app.databaseUrl });
  t.is(listed.code, 0, listed.stderr);
  const stored = JSON.parse(listed.stdout) as { kid: string; state: string; published: boolean }[];
  t.deepEqual(stored.map((k) => k.kid).sort(), jwksBefore.keys.map((k) => k.kid).sort(), 'list shows exactly the published keys');
  t.true(stored.every((k) => k.state === 'active' && k.published));
  t.false(listed.stdout.includes('"d"'), 'no private part is ever printed');

  const rotated = await keys(['rotate'], env);
  t.is(rotated.code, 0, rotated.stderr);
  t.regex(rotated.stdout, /Restart every Ringfence instance now/);
  t.regex(rotated.stdout, new RegExp(`Retired: .*${oldKid}`));
  const newKids = /New signing keys: ([^.]+)\./.exec(rotated.stdout)![1].split(', ');
  t.is(newKids.length, 2);
  t.false(newKids.includes(oldKid));

  // A restart: a new service on the same database and master key.
  restarted = await startTestApp({ name: 'services-signing-keys-restarted', databaseUrl: app.databaseUrl, kek: app.kek });
  const jwks = await fetchJwks(restarted);
  const published = jwks.keys.map((k) => k.kid);
  t.is(published.length, 4);
  for (const kid of [...newKids, ...jwksBefore.keys.map((k) => k.kid)]) t.true(published.includes(kid), `${kid} is published`);
  t.true(
    jwks.keys.every((k) => !('d' in k)),
    'public parts only',
  );

  const after = await tokensFor(restarted, await discover(restarted, service.client_id, clientSecret), person.person, 'openid email');
  const { header } = decodeJwt(after.id_token!);
  t.true(newKids.includes(header.kid), 'new ID tokens are signed with a new key');
  t.is(header.alg, 'RS256');
  t.true(verifiesWithJwks(after.id_token!, jwks));
  t.true(verifiesWithJwks(before.id_token!, jwks), 'an ID token signed before the rotation still verifies');
  t.false(verifiesWithJwks(before.id_token!, { keys: jwks.keys.filter((k) => newKids.includes(k.kid)) }), 'and only through its retired key');

  const listedAfter = JSON.parse((await keys(['list', '--json'], { DATABASE_URL: app.databaseUrl })).stdout) as {
    kid: string;
    state: string;
    published: boolean;
  }[];
  t.deepEqual(
    listedAfter
      .filter((k) => k.state === 'active')
      .map((k) => k.kid)
      .sort(),
    [...newKids].sort(),
  );
  t.true(listedAfter.filter((k) => k.state === 'retired').every((k) => k.published));
});

test.serial('rotate refuses a master key that does not open the stored keys, and one that is missing; a held DATA_DIR is named', async (t) => {
  const before = (await keys(['list', '--json'], { DATABASE_URL: app.databaseUrl })).stdout;
  const wrong = await keys(['rotate'], { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: 'ab'.repeat(32) });
  t.is(wrong.code, 1);
  t.is(
    wrong.stderr,
    'keys: the master key does not open the stored signing keys: it is not the key this database was set up with. Nothing was changed.\n',
  );
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ringfence-keys-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const missing = await keys(['rotate'], { DATABASE_URL: app.databaseUrl, DATA_DIR: dataDir });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^keys: no master key: set RINGFENCE_MASTER_KEY to the key the server runs with/);
  t.is((await keys(['list', '--json'], { DATABASE_URL: app.databaseUrl })).stdout, before, 'no key was added or retired');
  // On the embedded database while the server holds DATA_DIR: a plain sentence, as for every operator command.
  const lock = acquireDirLock(dataDir);
  t.teardown(() => lock.release());
  const locked = await keys(['list'], { DATA_DIR: dataDir });
  t.is(locked.code, 1);
  t.regex(locked.stderr, new RegExp(`^keys: the embedded database in ${dataDir} is in use by process ${process.pid} \\(the Ringfence server\\?\\)`));
  const usage = await keys(['spin'], { DATABASE_URL: app.databaseUrl });
  t.is(usage.code, 2);
  t.regex(usage.stderr, /usage: npm run keys -- <command>/);
});
