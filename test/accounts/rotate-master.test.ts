// `npm run keys -- rotate-master`: every data key re-wrapped under a new master key in batches; a run killed halfway
// (SIGKILL while a batch is under way) leaves every value readable with both keys, and a second run finishes it.
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Keyring } from '../../src/crypto/envelope.ts';
import { startTestApp, type TestApp, useTestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/cli.ts';
import { fetchJwks } from '../helpers/oidc.ts';
import { register, type Registered } from './fixtures.ts';

const app = useTestApp();
const started: TestApp[] = [];
test.after.always(async () => {
  for (const a of started) await a.close();
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every field value of each person's profile, as its owner reads it from `on`. */
async function profiles(on: TestApp, people: Registered[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const p of people) {
    const login = await on.request('POST', '/api/v1/users/login', { json: { email: p.person.email, password: p.person.password } });
    if (login.status !== 200) throw new Error(`login failed on the restarted server: ${login.text}`);
    const res = await on.request('GET', '/api/v1/profile', { token: login.body.token });
    if (res.status !== 200) throw new Error(`profile read failed: ${res.text}`);
    out.push(Object.fromEntries(Object.entries(res.body.fields as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value])));
  }
  return out;
}

test.serial('a rotation SIGKILLed mid-batch leaves every value readable, and run again it finishes under the new key alone', async (t) => {
  const oldKek = app.kek;
  const newKek = randomBytes(32);
  const newId = new Keyring(newKek).kekId;
  const people: Registered[] = [];
  for (let i = 0; i < 10; i++) people.push(await register(app));
  for (const p of people) {
    const res = await app.request('PUT', '/api/v1/profile/update-info', {
      token: p.token,
      json: { updated_fields: { name: `Person ${p.person.handle}` } },
    });
    t.is(res.status, 200, res.text);
  }
  const before = await profiles(app, people);

  // Step 1 of the procedure: the servers restart with the new key and the old one beside it.
  const both = await startTestApp({
    name: 'accounts-rotate-master-both',
    databaseUrl: app.databaseUrl,
    kek: newKek,
    env: { RINGFENCE_PREVIOUS_MASTER_KEYS: oldKek.toString('hex') },
  });
  started.push(both);
  t.deepEqual(await profiles(both, people), before, 'the new key with the old one beside it opens everything before the rotation');

  // A row of the second batch is held by another transaction, so the second batch stops halfway: one key
  // re-wrapped in its uncommitted transaction, the next one waiting. Then the process is killed.
  const ids = (await app.service.deps.db('profiles').orderBy('id').pluck('id')) as string[];
  const holder = new pg.Client({ connectionString: app.databaseUrl });
  await holder.connect();
  await holder.query('begin');
  await holder.query('select id from profiles where id = $1 for update', [ids[4]]);
  const url = new URL(app.databaseUrl);
  url.searchParams.set('application_name', 'rf-rotate-master');
  const child = spawn(path.join(ROOT, 'node_modules/.bin/node'), [path.join(ROOT, 'src/cli/keys.ts'), 'rotate-master', '--batch-size', '3'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: url.toString(),
      RINGFENCE_MASTER_KEY: newKek.toString('hex'),
      RINGFENCE_PREVIOUS_MASTER_KEYS: oldKek.toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const db = app.service.deps.db;
  await until('the first batch', async () => Number((await db('master_key_rotations').first())?.batches ?? 0) >= 1);
  await until('the second batch to wait on the held row', async () => {
    const { rows } = await holder.query(
      `select count(*)::int as n from pg_stat_activity where application_name = 'rf-rotate-master' and wait_event_type = 'Lock'`,
    );
    return rows[0].n === 1;
  });
  child.kill('SIGKILL');
  t.is(await exited, 'SIGKILL', output);
  await holder.query('rollback');
  // The killed process's server backend goes when PostgreSQL notices; end it now rather than wait for that.
  await holder.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'rf-rotate-master'`);
  await holder.end();

  const rows = (await db('profiles').orderBy('id').select('id', 'kek_id')) as { id: string; kek_id: string }[];
  t.deepEqual(
    rows.map((r) => r.kek_id === newId),
    ids.map((_, i) => i < 3),
    'exactly the first batch was committed under the new key; the half-done second one rolled back',
  );
  const progress = await db('master_key_rotations').first();
  t.is(progress.rewrapped, 3);
  t.is(progress.batches, 1);
  t.is(progress.finished_at, null);
  t.deepEqual(await profiles(both, people), before, 'halfway, every value is readable with both keys');

  // Resumed: the same rotation continues and finishes.
  const resumed = await runCli('keys', ['rotate-master', '--batch-size', '3', '--json'], {
    DATABASE_URL: app.databaseUrl,
    RINGFENCE_MASTER_KEY: newKek.toString('hex'),
    RINGFENCE_PREVIOUS_MASTER_KEYS: oldKek.toString('hex'),
  });
  t.is(resumed.code, 0, resumed.stderr);
  const result = JSON.parse(resumed.stdout);
  t.true(result.resumed);
  t.true(result.finished);
  t.is(result.remaining, 0);
  t.is(result.rewrapped, ids.length, 'the resumed run counts on from the first batch');
  t.true(((await db('profiles').pluck('kek_id')) as string[]).every((id) => id === newId));

  // Step 3: the old key is gone. Every value still opens, logins still find their accounts (the e-mail index is
  // keyed by a derived key) and the provider's signing keys still open.
  const alone = await startTestApp({ name: 'accounts-rotate-master-new', databaseUrl: app.databaseUrl, kek: newKek });
  started.push(alone);
  t.deepEqual(await profiles(alone, people), before, 'after the rotation, the new key alone opens every value');
  t.is((await fetchJwks(alone)).keys.length, 2, 'the signing keys, sealed under a derived key, still open');
  const again = await runCli('keys', ['rotate-master'], {
    DATABASE_URL: app.databaseUrl,
    RINGFENCE_MASTER_KEY: newKek.toString('hex'),
    RINGFENCE_PREVIOUS_MASTER_KEYS: oldKek.toString('hex'),
  });
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /Finished: 0 data keys/);
});

test('rotate-master refuses to run without the old key, and with a key that opens nothing', async (t) => {
  const missing = await runCli('keys', ['rotate-master'], { DATABASE_URL: app.databaseUrl, RINGFENCE_MASTER_KEY: randomBytes(32).toString('hex') });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /RINGFENCE_PREVIOUS_MASTER_KEYS/);
  const bad = await runCli('keys', ['rotate-master', '--batch-size', '0'], {
    DATABASE_URL: app.databaseUrl,
    RINGFENCE_MASTER_KEY: randomBytes(32).toString('hex'),
    RINGFENCE_PREVIOUS_MASTER_KEYS: randomBytes(32).toString('hex'),
  });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--batch-size/);
});

test.serial("an emergency setup's own data key is re-wrapped too: after the rotation the new key alone opens it", async (t) => {
  const first = await startTestApp({ name: 'accounts-rotate-master-emergency' });
  started.push(first);
  const person = await register(first);
  const setup = { trusted_contacts: [], emergency_info: { blood_type: 'AB-', allergies: ['latex'] }, criteria: ['unconsciousness'] };
  const created = await first.request('POST', '/api/v1/profile/emergency-access', { token: person.token, json: setup });
  t.is(created.status, 201, created.text);
  const before = (await first.request('GET', '/api/v1/profile/emergency-access', { token: person.token })).body.emergency_info;

  const newKek = randomBytes(32);
  const rotated = await runCli('keys', ['rotate-master', '--json'], {
    DATABASE_URL: first.databaseUrl,
    RINGFENCE_MASTER_KEY: newKek.toString('hex'),
    RINGFENCE_PREVIOUS_MASTER_KEYS: first.kek.toString('hex'),
  });
  t.is(rotated.code, 0, rotated.stderr);
  t.true(JSON.parse(rotated.stdout).finished);
  const row = await first.service.deps.db('emergency_access').first('kek_id');
  t.is(row.kek_id, new Keyring(newKek).kekId, 'the setup is wrapped under the new key');

  const alone = await startTestApp({ name: 'accounts-rotate-master-emergency-new', databaseUrl: first.databaseUrl, kek: newKek });
  started.push(alone);
  const login = await alone.request('POST', '/api/v1/users/login', { json: { email: person.person.email, password: person.person.password } });
  t.is(login.status, 200, login.text);
  const after = await alone.request('GET', '/api/v1/profile/emergency-access', { token: login.body.token });
  t.is(after.status, 200, after.text);
  t.deepEqual(after.body.emergency_info, before);
});
