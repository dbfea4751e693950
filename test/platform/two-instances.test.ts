/**
 * Issue 21: two instances (`node src/main.ts`, real processes) on one PostgreSQL, behind one BASE_URL (a loopback
 * balancer that sends each request to the instance the test names), and nothing one of them — or an operator's
 * command — changes is missed by the other on its very next request:
 * - a grant revoked through one is refused by the other;
 * - a ring change through one changes what the other releases;
 * - a disabled service is refused by both, at the data API and the token endpoint;
 * - keys rotated (provider and credential issuer) are published by both at once, sign only from their activation,
 *   on the instance restarted meanwhile and on the one never restarted, and every token stays verifiable from
 *   either instance's JWKS;
 * - that restart is a rolling change of the policy files: it rolls out without the two answering the same token
 *   differently — the old instance answers 503 policy_outdated until its files are the revision in force, then
 *   the same as the new one.
 * The person and services are made first by a service in this process, on the same database and master key.
 * A second pair of instances delivers the outbox (issue 21, Workers): 1,000 mails enqueued while both run, against an
 * SMTP receiver on which every 25th mail takes longer than the lease, each arrive exactly once (counted by Message-ID)
 * with no lease lost; then one instance is killed (SIGKILL) mid-delivery and nothing is lost: the other takes
 * its claims over once their lease ends, and what arrives twice is at most what the killed one held.
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { POLICIES_DIR } from '../../src/policy/catalogue.ts';
import { CHANGE_POLL_MS } from '../../src/store/changes.ts';
import { withTransaction } from '../../src/store/db.ts';
import { createDatabase, logFileFor, specCheckedClient, startTestApp, type TestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { type Balancer, startBalancer } from '../helpers/balancer.ts';
import { runCli } from '../helpers/cli.ts';
import { addService, decodeJwt, discover, type Jwks, tokensFor, verifiesWithJwks } from '../helpers/oidc.ts';
import { freePort } from '../helpers/postgres.ts';
import { startServer } from '../helpers/server.ts';
import { startSmtpSink } from '../helpers/smtp.ts';
import { registerNamedPerson } from '../services/fixtures.ts';
import { until } from '../helpers/until.ts';

const REVOCATIONS = 8;
const RING_CHANGES = 10;
const PUBLISH_FOR_SECONDS = 10;

const children: ChildProcess[] = [];
const dirs: string[] = [];
const balancers: Balancer[] = [];
const drops: (() => Promise<void>)[] = [];
const closers: (() => Promise<void>)[] = [];

test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const close of closers) await close().catch(() => undefined);
  for (const b of balancers) await b.close();
  for (const drop of drops) await drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

test.serial(
  'two instances on one PostgreSQL agree on the very next request: revocations, rings, a disabled service, rotated keys, a policy change',
  async (t) => {
    t.timeout(120_000);
    const started = Date.now();
    const database = await createDatabase();
    drops.push(database.drop);
    const kek = randomBytes(32);
    const lb = await startBalancer();
    balancers.push(lb);
    const policiesA = tempDir('rf-policies-a-');
    const policiesB = tempDir('rf-policies-b-');
    cpSync(POLICIES_DIR, policiesA, { recursive: true });
    cpSync(POLICIES_DIR, policiesB, { recursive: true });

    // Setup in this process: a person and the services, on the same database, master key and BASE_URL.
    const setup = await startTestApp({ name: 'platform-two-instances-setup', databaseUrl: database.url, kek, env: { BASE_URL: lb.url } });
    const person = await registerNamedPerson(setup, 'twin21');
    const revoked: Awaited<ReturnType<typeof addService>>[] = [];
    for (let i = 0; i < REVOCATIONS; i++) revoked.push(await addService(setup, 'government', { name: `Revoked ${i}` }));
    const main = await addService(setup, 'government', { name: 'Main' });
    const doomed = await addService(setup, 'government', { name: 'Doomed' });
    await setup.close();

    const [portA, portB] = [await freePort(), await freePort()];
    const common = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      BASE_URL: lb.url,
      DATABASE_URL: database.url,
      RINGFENCE_MASTER_KEY: kek.toString('hex'),
      LOG_LEVEL: 'info',
      // Both instances run the audit checkpoint job, every 2 s: one of them writes each interval's checkpoint.
      AUDIT_CHECKPOINT_SECONDS: '2',
    };
    const envA = { ...common, PORT: String(portA), POLICIES_DIR: policiesA, DATA_DIR: tempDir('rf-a-') };
    const envB = { ...common, PORT: String(portB), POLICIES_DIR: policiesB, DATA_DIR: tempDir('rf-b-') };
    const urlA = `http://127.0.0.1:${portA}`;
    const urlB = `http://127.0.0.1:${portB}`;
    let a = (
      await Promise.all([
        startServer('platform-two-instances-a', envA, urlA, children),
        startServer('platform-two-instances-b', envB, urlB, children),
      ])
    )[0];
    const onA = specCheckedClient(urlA);
    const onB = specCheckedClient(urlB);
    const viaBalancer = { url: lb.url, request: specCheckedClient(lb.url) } as unknown as TestApp;
    const resource = `${lb.url}/api/v1/data`;
    const grant = async (svc: (typeof revoked)[number], via: string) => {
      lb.route(via);
      const config = await discover(viaBalancer, svc.service.client_id, svc.clientSecret);
      const tokens = await tokensFor(viaBalancer, config, person, 'openid email address offline_access');
      return { config, data: await client.refreshTokenGrant(config, tokens.refresh_token!, { resource }) };
    };

    // A revocation through one instance is refused by the other on its very next request (alternating the two).
    let revocationsChecked = 0;
    for (const [i, svc] of revoked.entries()) {
      const { data } = await grant(svc, i % 2 === 0 ? urlA : urlB);
      const [through, other] = i % 2 === 0 ? [onA, onB] : [onB, onA];
      t.is((await other('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);
      const res = await through('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: svc.service.client_id } });
      t.is(res.status, 200, res.text);
      assertError(t, await other('GET', '/api/v1/data/profile', { token: data.access_token }), 401, 'invalid_token');
      revocationsChecked++;
    }

    // A ring change through one changes what the other releases, on its next request.
    const { config: mainConfig, data: mainData } = await grant(main, urlA);
    let ringChangesChecked = 0;
    for (let i = 0; i < RING_CHANGES; i++) {
      const ring = i % 2 === 0 ? 'restricted' : 'private';
      const [writer, reader] = i % 2 === 0 ? [onB, onA] : [onA, onB];
      const res = await writer('POST', '/api/v1/profile/privilege-rings', {
        token: person.token,
        json: { ring_name: ring, assigned_data: { fields: ['home_address'] } },
      });
      t.true(res.status === 200 || res.status === 201, res.text);
      const read = await reader('GET', '/api/v1/data/profile', { token: mainData.access_token });
      t.is(read.status, 200, read.text);
      t.is(read.body.fields.home_address === undefined, ring === 'restricted', `after moving home_address to ${ring}`);
      ringChangesChecked++;
    }

    // A service disabled by the operator's command is refused by both, at the data API and at the token endpoint.
    const { config: doomedConfig, data: doomedData } = await grant(doomed, urlB);
    for (const on of [onA, onB]) t.is((await on('GET', '/api/v1/data/profile', { token: doomedData.access_token })).status, 200);
    const disabled = await runCli('services', ['disable', doomed.service.client_id], { DATABASE_URL: database.url });
    t.is(disabled.code, 0, disabled.stderr);
    let disabledChecked = 0;
    for (const [url, on] of [
      [urlA, onA],
      [urlB, onB],
    ] as const) {
      assertError(t, await on('GET', '/api/v1/data/profile', { token: doomedData.access_token }), 401, 'invalid_token');
      lb.route(url);
      const refused = await t.throwsAsync(client.clientCredentialsGrant(doomedConfig, { resource }));
      t.is((refused as { error?: string }).error, 'invalid_client');
      disabledChecked += 2;
    }

    // Keys: both sets rotated by the operator while both instances run, then a rolling restart during the rotation.
    const idToken = async (via: string) => {
      lb.route(via);
      return (await tokensFor(viaBalancer, mainConfig, person, 'openid email')).id_token!;
    };
    const signedAt = new Map<string, number>();
    const share = async (on: typeof onA) => {
      const at = Date.now();
      const res = await on('POST', '/api/v1/profile/share-create', {
        token: person.token,
        json: { service_id: main.service.client_id, info_field: 'date_of_birth' },
      });
      if (res.status !== 201) throw new Error(`share-create: ${res.status} ${res.text}`);
      const jwt = (res.body.verification_token as string).split('~')[0];
      signedAt.set(jwt, at);
      return jwt;
    };
    const idTokens = [await idToken(urlA), await idToken(urlB)];
    const shares = [await share(onA), await share(onB)];
    const oldKid = decodeJwt(idTokens[0]).header.kid;
    const oldIssuerKid = decodeJwt(shares[0]).header.kid;
    t.is(decodeJwt(idTokens[1]).header.kid, oldKid);
    const keysEnv = { DATABASE_URL: database.url, RINGFENCE_MASTER_KEY: kek.toString('hex') };
    const [rotated, rotatedIssuer] = await Promise.all([
      runCli('keys', ['rotate', '--publish-for', String(PUBLISH_FOR_SECONDS), '--json'], keysEnv),
      runCli('keys', ['rotate-issuer', '--publish-for', String(PUBLISH_FOR_SECONDS), '--json'], keysEnv),
    ]);
    t.is(rotated.code, 0, rotated.stderr);
    t.is(rotatedIssuer.code, 0, rotatedIssuer.stderr);
    const { pending: newKids, activates_at } = JSON.parse(rotated.stdout) as { pending: string[]; activates_at: string };
    const issuerRotation = JSON.parse(rotatedIssuer.stdout) as { pending: string; activates_at: string };
    const activation = Math.max(new Date(activates_at).getTime(), new Date(issuerRotation.activates_at).getTime());

    // Published by both within the bound (a notice, or the poll), while the old keys still sign.
    const jwksOf = async (url: string): Promise<Jwks> => (await fetch(`${url}/oidc/jwks`)).json() as Promise<Jwks>;
    const issuerJwksOf = async (url: string): Promise<Jwks> => (await fetch(`${url}/api/v1/issuer/jwks.json`)).json() as Promise<Jwks>;
    const publishes = async (url: string) => {
      const [jwks, issuer] = [await jwksOf(url), await issuerJwksOf(url)];
      return newKids.every((kid) => jwks.keys.some((k) => k.kid === kid)) && issuer.keys.some((k) => k.kid === issuerRotation.pending);
    };
    const publishedAt = Date.now();
    for (const url of [urlA, urlB])
      await until(`${url} to publish the new keys`, async () => ((await publishes(url)) ? true : undefined), CHANGE_POLL_MS + 1000);
    const publishedWithinMs = Date.now() - publishedAt;
    t.true(Date.now() < activation, 'both published the new keys before either may sign with them');
    const pending = [await idToken(urlA), await idToken(urlB)];
    const sharesPending = [await share(onA), await share(onB)];

    // The same token asked of both, again and again, through the rollout below: never two different answers.
    const { data: policyData } = await grant(main, urlB);
    const before = [
      await onA('GET', '/api/v1/data/profile', { token: policyData.access_token }),
      await onB('GET', '/api/v1/data/profile', { token: policyData.access_token }),
    ];
    t.deepEqual(before[0].body.fields, before[1].body.fields);
    t.truthy(before[0].body.fields.email);
    const answers = { same: 0, outdated: 0, different: 0 };
    const ask = async () => {
      const [fromA, fromB] = await Promise.all([
        onA('GET', '/api/v1/data/profile', { token: policyData.access_token }),
        onB('GET', '/api/v1/data/profile', { token: policyData.access_token }),
      ]);
      t.is(fromA.status, 200, fromA.text);
      t.is(fromA.body.fields.email, undefined, 'the new revision is in force on A');
      if (fromB.status === 503) {
        assertError(t, fromB, 503, 'policy_outdated');
        t.truthy(fromB.headers.get('retry-after'));
        answers.outdated++;
        return undefined;
      }
      if (JSON.stringify(fromB.body.fields) === JSON.stringify(fromA.body.fields)) answers.same++;
      else answers.different++;
      t.deepEqual(fromB.body.fields, fromA.body.fields, 'B answers as A does, or not at all');
      return true;
    };

    // The rolling restart: A comes back with new policy files (government may no longer read email), B keeps the
    // old ones and is never restarted.
    const policiesNew = tempDir('rf-policies-new-');
    cpSync(policiesA, policiesNew, { recursive: true });
    const government = path.join(policiesNew, 'roles/government.yaml');
    writeFileSync(government, readFileSync(government, 'utf8').replace(/^ {6}- email\n/m, ''));
    await stop(a);
    a = await startServer('platform-two-instances-a-restarted', { ...envA, POLICIES_DIR: policiesNew }, urlA, children);
    await ask();
    t.is(answers.outdated, 1, 'B refuses at once: its revision is no longer in force');
    assertError(t, await onB('GET', '/readyz'), 503, 'policy_outdated');
    t.true(await publishes(urlB), 'B still publishes the keys');
    t.is((await fetch(`${urlB}/healthz`)).status, 200, 'and is alive');
    // The new files reach B's disk (a shared volume, a configuration push): B switches to them without a restart.
    cpSync(government, path.join(policiesB, 'roles/government.yaml'));
    await until('B to read the revision in force from its files', ask, CHANGE_POLL_MS * 2);
    t.is((await onB('GET', '/readyz')).status, 200);
    for (let i = 0; i < 5; i++) await ask();

    // Whatever either signed before the activation carries the old key, whatever after the new one: A restarted
    // during the rotation, B never. (iat has whole seconds: within a second of the activation either key is right.)
    const restarted = [await idToken(urlA), await idToken(urlB)];
    const sharesRestarted = [await share(onA), await share(onB)];
    let signedWhilePending = 0;
    const expect = (at: number, kid: string, old: string, fresh: string, what: string) => {
      if (at < activation - 1000) {
        t.is(kid, old, `${what} signed before the activation carries the old key`);
        signedWhilePending++;
      } else if (at > activation + 1500) t.is(kid, fresh, `${what} signed after the activation carries the new key`);
      else t.true(kid === old || kid === fresh);
    };
    for (const jwt of [...pending, ...restarted]) {
      expect(Number(decodeJwt(jwt).payload.iat) * 1000, decodeJwt(jwt).header.kid, oldKid, newKids[0], 'an ID token');
    }
    for (const jwt of [...sharesPending, ...sharesRestarted]) {
      expect(signedAt.get(jwt)!, decodeJwt(jwt).header.kid, oldIssuerKid, issuerRotation.pending, 'a share');
    }
    await new Promise((r) => setTimeout(r, Math.max(0, activation - Date.now()) + 100));
    const after = await until(
      'both instances to sign with the new key',
      async () => {
        const pair = [await idToken(urlA), await idToken(urlB)];
        return pair.every((jwt) => newKids.includes(decodeJwt(jwt).header.kid)) ? pair : undefined;
      },
      CHANGE_POLL_MS,
    );
    const sharesAfter = [await share(onA), await share(onB)];
    for (const jwt of sharesAfter) t.is(decodeJwt(jwt).header.kid, issuerRotation.pending);
    let tokensVerified = 0;
    const [jwksA, jwksB, issuerA, issuerB] = await Promise.all([jwksOf(urlA), jwksOf(urlB), issuerJwksOf(urlA), issuerJwksOf(urlB)]);
    for (const jwt of [...idTokens, ...pending, ...restarted, ...after]) {
      t.true(verifiesWithJwks(jwt, jwksA) && verifiesWithJwks(jwt, jwksB), `ID token ${decodeJwt(jwt).header.kid} verifies from both JWKS`);
      tokensVerified++;
    }
    for (const jwt of [...shares, ...sharesPending, ...sharesRestarted, ...sharesAfter]) {
      t.true(verifiesWithJwks(jwt, issuerA) && verifiesWithJwks(jwt, issuerB), `share ${decodeJwt(jwt).header.kid} verifies from both issuer JWKS`);
      tokensVerified++;
    }

    // The audit log afterwards: every person's chain whole against the signed checkpoints both instances wrote (one
    // per interval: the interval is the key), checked as an operator checks it.
    const audit = await runCli('audit', ['verify', '--json'], { DATABASE_URL: database.url, RINGFENCE_MASTER_KEY: kek.toString('hex') });
    t.is(audit.code, 0, audit.stdout + audit.stderr);
    const verdict = JSON.parse(audit.stdout) as {
      ok: boolean;
      chains: number;
      checked: number;
      checkpoints: { ok: boolean; count: number; unverifiable: number };
    };
    t.true(verdict.ok);
    t.true(verdict.checkpoints.count >= 2, `${verdict.checkpoints.count} checkpoints`);
    t.is(verdict.checkpoints.unverifiable, 0);

    const counts = {
      audit_chains_whole: verdict.chains,
      audit_rows_checked: verdict.checked,
      audit_checkpoints_verified: verdict.checkpoints.count,
      revocations_checked_across_instances: revocationsChecked,
      ring_changes_checked_across_instances: ringChangesChecked,
      disabled_service_refusals: disabledChecked,
      keys_published_by_both_within_ms: publishedWithinMs,
      tokens_verified_from_both_jwks: tokensVerified,
      tokens_signed_while_a_key_was_pending: signedWhilePending,
      policy_answers_identical: answers.same,
      policy_answers_refused_as_outdated: answers.outdated,
      policy_answers_different: answers.different,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    t.log(JSON.stringify(counts));
    process.stdout.write(`two instances: ${JSON.stringify(counts)}\n`);
  },
);

const MESSAGES = 1000;
const MESSAGES_ACROSS_THE_KILL = 300;
const LEASE_SECONDS = 3;
const CONCURRENCY = 20;
/**
 * Every 25th connection is slow: the greeting, MAIL FROM and RCPT TO each answered after 1.15 s, about 3.5 s a mail —
 * longer than the 3 s lease, each wait under the 1.5 s timeouts. The rest answer at once but for 10 ms.
 */
const slowStep = (connection: number) => (connection % 25 === 24 ? 1150 : 10);

test.serial('two instances deliver 1,000 outbox messages exactly once, renewing leases; a SIGKILL mid-delivery loses none', async (t) => {
  t.timeout(150_000);
  const started = Date.now();
  const database = await createDatabase();
  drops.push(database.drop);
  const kek = randomBytes(32);
  const lb = await startBalancer();
  balancers.push(lb);
  const sink = await startSmtpSink({ stepDelayMs: slowStep });
  closers.push(() => sink.close());
  // This process enqueues (as a request on a third instance would), and delivers nothing itself.
  const setup = await startTestApp({
    name: 'platform-two-instances-outbox-setup',
    databaseUrl: database.url,
    kek,
    env: { BASE_URL: lb.url, OUTBOX_WORKER: 'false' },
  });
  closers.push(() => setup.close());
  const { db, outbox } = setup.service.deps;

  const [portA, portB] = [await freePort(), await freePort()];
  const from = { a: 'a@ringfence.test', b: 'b@ringfence.test' };
  const common = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    BASE_URL: lb.url,
    DATABASE_URL: database.url,
    RINGFENCE_MASTER_KEY: kek.toString('hex'),
    LOG_LEVEL: 'info',
    SMTP_URL: sink.url,
    OUTBOX_LEASE_SECONDS: String(LEASE_SECONDS),
    OUTBOX_CONCURRENCY: String(CONCURRENCY),
  };
  const urlA = `http://127.0.0.1:${portA}`;
  const urlB = `http://127.0.0.1:${portB}`;
  const [a] = await Promise.all([
    startServer(
      'platform-two-instances-outbox-a',
      { ...common, PORT: String(portA), MAIL_FROM: from.a, DATA_DIR: tempDir('rf-oa-') },
      urlA,
      children,
    ),
    startServer(
      'platform-two-instances-outbox-b',
      { ...common, PORT: String(portB), MAIL_FROM: from.b, DATA_DIR: tempDir('rf-ob-') },
      urlB,
      children,
    ),
  ]);

  const enqueue = async (prefix: string, n: number) => {
    const keys = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    // In transactions of 50, as requests commit: each wakes both instances (NOTIFY) once it is visible.
    for (let i = 0; i < keys.length; i += 50)
      await withTransaction(db, async (trx) => {
        for (const key of keys.slice(i, i + 50)) await outbox.enqueueMail(trx, { to: `${key}@example.test`, subject: prefix, text: key }, key);
      });
    return keys;
  };
  const sentCount = async (keys: string[]) =>
    Number((await db('outbox').whereIn('idempotency_key', keys).where({ state: 'sent' }).count({ n: '*' }).first())?.n);
  const received = (keys: string[]) => {
    const ids = new Set(keys.map((k) => `<${k}@ringfence>`));
    const counts = new Map<string, number>();
    const longer: number[] = [];
    sink.messages.forEach((m, i) => {
      if (!ids.has(m.messageId ?? '')) return;
      counts.set(m.messageId!, (counts.get(m.messageId!) ?? 0) + 1);
      if (sink.durations[i] > LEASE_SECONDS * 1000) longer.push(sink.durations[i]);
    });
    const total = [...counts.values()].reduce((x, y) => x + y, 0);
    return { distinct: counts.size, duplicates: total - counts.size, lost: keys.length - counts.size, longerThanALease: longer.length };
  };
  const fromOf = (keys: string[], address: string) => {
    const ids = new Set(keys.map((k) => `<${k}@ringfence>`));
    return sink.messages.filter((m) => ids.has(m.messageId ?? '') && m.from?.value[0]?.address === address).length;
  };

  // 1,000 messages enqueued while both run: each delivered exactly once, the slow ones outlasting a lease.
  const deliveryStarted = Date.now();
  const keys = await enqueue('two-outbox', MESSAGES);
  await until('all 1,000 messages to be sent', async () => ((await sentCount(keys)) === MESSAGES ? true : undefined), 90_000, 200);
  const deliverySeconds = (Date.now() - deliveryStarted) / 1000;
  const first = received(keys);
  t.is(first.lost, 0, 'every message arrived');
  t.is(first.duplicates, 0, 'none arrived twice');
  t.true(first.longerThanALease > 0, 'some deliveries outlasted a lease, renewed while they ran');
  // No claim was lost or taken over while both ran (each instance logs every one); a mail whose connection timed out
  // before it was sent is retried, which is no duplicate.
  const logged = (what: RegExp) =>
    ['platform-two-instances-outbox-a', 'platform-two-instances-outbox-b'].reduce(
      (n, name) =>
        n +
        readFileSync(logFileFor(name), 'utf8')
          .split('\n')
          .filter((l) => what.test(l)).length,
      0,
    );
  const takenOver = logged(/outbox (lease|claim) lost/);
  t.is(takenOver, 0, 'no lease ran out under a delivery: the heartbeat kept every one');
  const retried = Number((await db('outbox').whereIn('idempotency_key', keys).where('attempts', '>', 1).count({ n: '*' }).first())?.n);
  const byA = fromOf(keys, from.a);
  const byB = fromOf(keys, from.b);
  t.true(byA > 0 && byB > 0, `both instances delivered (${byA} and ${byB})`);

  // Then A is killed mid-delivery: B takes A's claims over once their lease ends, and nothing is lost. What A had
  // handed to the receiver but not yet marked sent arrives twice (the receiver drops it by Message-ID).
  const acrossTheKill = await enqueue('two-outbox-kill', MESSAGES_ACROSS_THE_KILL);
  const inFlightAtKill = await until(
    'A to be delivering',
    async () => {
      const n = sink.inFlightFrom(from.a);
      return fromOf(acrossTheKill, from.a) >= 20 && n > 0 ? n : undefined;
    },
    60_000,
    5,
  );
  a.kill('SIGKILL');
  await new Promise<void>((r) => (a.exitCode !== null || a.signalCode !== null ? r() : a.once('exit', () => r())));
  const killedAt = Date.now();
  const pendingAtKill = MESSAGES_ACROSS_THE_KILL - (await sentCount(acrossTheKill));
  await until(
    'every message to be sent by B',
    async () => ((await sentCount(acrossTheKill)) === MESSAGES_ACROSS_THE_KILL ? true : undefined),
    60_000,
    200,
  );
  const recoveredWithinSeconds = (Date.now() - killedAt) / 1000;
  const second = received(acrossTheKill);
  t.is(second.lost, 0, 'nothing lost across the kill');
  t.true(second.duplicates <= CONCURRENCY, `at most the messages A held at the kill arrive twice (${second.duplicates})`);
  t.is(
    Number(
      (
        await db('outbox')
          .whereIn('idempotency_key', [...keys, ...acrossTheKill])
          .whereNot({ state: 'sent' })
          .count({ n: '*' })
          .first()
      )?.n,
    ),
    0,
  );

  const counts = {
    messages_enqueued: MESSAGES + MESSAGES_ACROSS_THE_KILL,
    messages_delivered: first.distinct + second.distinct,
    duplicates: first.duplicates,
    lost: first.lost + second.lost,
    delivered_by_a: byA,
    delivered_by_b: byB,
    deliveries_longer_than_a_lease: first.longerThanALease,
    lease_seconds: LEASE_SECONDS,
    leases_lost: takenOver,
    retried_after_a_failed_attempt: retried,
    seconds_for_1000: Math.round(deliverySeconds * 10) / 10,
    across_the_kill: {
      mails_in_flight_from_a_at_kill: inFlightAtKill,
      not_yet_sent_at_kill: pendingAtKill,
      duplicates_dropped_by_message_id: second.duplicates,
      lost: second.lost,
      all_sent_within_seconds: Math.round(recoveredWithinSeconds * 10) / 10,
      connections_cut_by_the_kill: sink.dropped.length,
    },
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  t.log(JSON.stringify(counts));
  process.stdout.write(`two instances, outbox: ${JSON.stringify(counts)}\n`);
});
