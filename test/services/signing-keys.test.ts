// Rotating the provider's signing keys with `npm run keys -- rotate`: the new keys are published by every instance
// at once and sign from their activation, with no restart (and a restart meanwhile changes nothing); the JWKS still
// publishes the retired ones, so tokens signed before still verify.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIN_PUBLICATION_SECONDS } from '../../src/crypto/signing-keys.ts';
import { CHANGE_POLL_MS } from '../../src/store/changes.ts';
import { acquireDirLock } from '../../src/store/lock.ts';
import { startTestApp, type TestApp, useTestApp } from '../helpers/app.ts';
import { type CliRun, runCli } from '../helpers/cli.ts';
import { decodeJwt, discover, fetchJwks, registerClient, tokensFor, verifiesWithJwks } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';
import { until } from '../helpers/until.ts';

const app = useTestApp();
let restarted: TestApp | undefined;
test.after.always(async () => {
  await restarted?.close();
});

function keys(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runCli('keys', args, env);
}

test.serial('a rotation is published by the running service at once and signs from its activation, restarted or not', async (t) => {
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

  const rotated = await keys(['rotate', '--publish-for', String(MIN_PUBLICATION_SECONDS)], env);
  t.is(rotated.code, 0, rotated.stderr);
  t.regex(rotated.stdout, /No restart is needed/);
  t.regex(rotated.stdout, new RegExp(`Retiring then: .*${oldKid}`));
  const [, kidList, activation] = /New signing keys: (\S+, \S+), published by every instance now, signing from (\S+)\. /.exec(rotated.stdout)!;
  const newKids = kidList.split(', ');
  const activatesAt = new Date(activation).getTime();
  t.is(newKids.length, 2);
  t.false(newKids.includes(oldKid));

  // Published by the running service at once (the change notice), well before the poll would have: verify only.
  const published = await until(
    'the new keys in the JWKS',
    async () => {
      const jwks = await fetchJwks(app);
      return newKids.every((kid) => jwks.keys.some((k) => k.kid === kid)) ? jwks : undefined;
    },
    CHANGE_POLL_MS,
  );
  t.true(Date.now() < activatesAt, 'published before it may sign');
  t.deepEqual(
    published.keys.filter((k) => newKids.includes(k.kid)).map((k) => k.key_ops),
    [['verify'], ['verify']],
  );
  t.true(
    published.keys.every((k) => !('d' in k)),
    'public parts only',
  );
  const during = await tokensFor(app, config, person.person, 'openid email');
  t.is(decodeJwt(during.id_token!).header.kid, oldKid, 'a pending key signs nothing');

  // A restart meanwhile (a new service on the same database and master key) changes nothing: old key until then.
  restarted = await startTestApp({ name: 'services-signing-keys-restarted', databaseUrl: app.databaseUrl, kek: app.kek });
  const restartedConfig = await discover(restarted, service.client_id, clientSecret);
  const duringRestarted = await tokensFor(restarted, restartedConfig, person.person, 'openid email');
  t.is(decodeJwt(duringRestarted.id_token!).header.kid, oldKid, 'a restarted instance signs with the active key too');

  // At the activation both switch, neither restarted for it.
  await new Promise((r) => setTimeout(r, Math.max(0, activatesAt - Date.now()) + 200));
  const after = await until(
    'an ID token signed with the new key',
    async () => {
      const tokens = await tokensFor(app, config, person.person, 'openid email');
      return newKids.includes(decodeJwt(tokens.id_token!).header.kid) ? tokens : undefined;
    },
    CHANGE_POLL_MS,
  );
  const afterRestarted = await tokensFor(restarted, restartedConfig, person.person, 'openid email');
  for (const tokens of [after, afterRestarted]) {
    const { header } = decodeJwt(tokens.id_token!);
    t.true(newKids.includes(header.kid), 'new ID tokens are signed with a new key');
    t.is(header.alg, 'RS256');
  }
  const jwks = await fetchJwks(app);
  const jwksRestarted = await fetchJwks(restarted);
  t.deepEqual(jwks.keys.map((k) => k.kid).sort(), jwksRestarted.keys.map((k) => k.kid).sort());
  t.is(jwks.keys.length, 4);
  t.deepEqual(
    jwks.keys.filter((k) => newKids.includes(k.kid)).map((k) => k.key_ops),
    [undefined, undefined],
    'the new keys sign now',
  );
  for (const token of [before, during, duringRestarted, after, afterRestarted]) {
    t.true(verifiesWithJwks(token.id_token!, jwks));
    t.true(verifiesWithJwks(token.id_token!, jwksRestarted));
  }
  t.false(verifiesWithJwks(before.id_token!, { keys: jwks.keys.filter((k) => newKids.includes(k.kid)) }), 'old tokens only through the retired key');

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
  const tooSoon = await keys(['rotate', '--publish-for', '3'], { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: app.kek.toString('hex') });
  t.is(tooSoon.code, 1);
  t.regex(
    tooSoon.stderr,
    /^keys: --publish-for must be a whole number of seconds from 10 \(every instance must have published a key before any signs with it\)/,
  );
  t.is((await keys(['list', '--json'], { DATABASE_URL: app.databaseUrl })).stdout, before, 'no key was added or retired');
  const env = { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: app.kek.toString('hex') };
  t.is((await keys(['rotate'], env)).code, 0);
  const twice = await keys(['rotate'], env);
  t.is(twice.code, 1);
  t.regex(twice.stderr, /^keys: a rotation is already pending: \S+, \S+ activate at /);
  const usage = await keys(['spin'], { DATABASE_URL: app.databaseUrl });
  t.is(usage.code, 2);
  t.regex(usage.stderr, /usage: npm run keys -- <command>/);
});
