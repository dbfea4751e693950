/**
 * Crash safety (issue 7): the real server runs as its own process (`node src/main.ts`) on a PostgreSQL with
 * production durability (fsync, synchronous commit, full-page writes), with mail going to an SMTP sink in this
 * process. Under write load (registrations, which enqueue verification mail, and profile updates) it is killed
 * with SIGKILL, PostgreSQL is stopped as a crash would stop it, both start again, and then: every write the
 * server acknowledged is there, every message of the outbox reached the sink exactly once once redeliveries are
 * dropped by Message-ID (the outbox's idempotency key), and the audit chain verifies.
 */
import test from 'ava';
import { startServer } from '../helpers/server.ts';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { freePort, startPostgres, type PgServer } from '../helpers/postgres.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { recordSecrets } from './secrets.ts';

interface Account {
  userId: string;
  email: string;
  password: string;
  token: string;
  /** Every bio sent, in order, whether or not it was acknowledged. */
  sent: string[];
  /** The last acknowledged update: its version and bio. */
  acked?: { version: number; bio: string };
}

let pgServer: PgServer | undefined;
let smtp: SmtpSink | undefined;
const children: ChildProcess[] = [];
let db: Knex | undefined;

test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.destroy();
  await smtp?.close();
  pgServer?.stop();
});

test('SIGKILL under write load loses no acknowledged write, delivers every outbox mail once, and keeps the audit chain whole', async (t) => {
  t.timeout(180_000);
  pgServer = await startPostgres({ durable: true });
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  await admin.query('create database crash');
  await admin.end();
  const databaseUrl = pgServer.url.replace(/\/postgres$/, '/crash');
  smtp = await startSmtpSink();
  const kek = randomBytes(32);
  recordSecrets('security-crash', kek.toString('hex'), kek.toString('base64'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    BASE_URL: url,
    DATABASE_URL: databaseUrl,
    SMTP_URL: smtp.url,
    RINGFENCE_MASTER_KEY: kek.toString('hex'),
    LOG_LEVEL: 'info',
    // The write load registers every person from this one loopback address.
    REGISTRATIONS_PER_ADDRESS: '100000',
    // What the killed process had claimed comes due again after this lease, not the default minute.
    OUTBOX_LEASE_SECONDS: '10',
  };

  const first = await startServer('security-crash-server-1', env, url);
  children.push(first);

  // Write load: workers register people and update their profiles until the server dies under them.
  const accounts: Account[] = [];
  let killed = false;
  let inFlightAtKill = 0;
  let inFlight = 0;
  const call = async (path: string, init: RequestInit) => {
    inFlight++;
    try {
      const res = await fetch(`${url}${path}`, init);
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    } finally {
      inFlight--;
    }
  };
  const worker = async (w: number) => {
    while (!killed) {
      const tag = randomBytes(5).toString('hex');
      const person = { name: 'Crash Test', email: `crash.${tag}@example.org`, handle: `crash_${tag}`, password: `crash test passphrase ${tag}` };
      recordSecrets('security-crash', person.password);
      let reg: Awaited<ReturnType<typeof call>>;
      try {
        reg = await call('/api/v1/users/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(person) });
      } catch {
        return;
      }
      if (reg.status !== 201) throw new Error(`registration answered ${reg.status}: ${JSON.stringify(reg.body)}`);
      const account: Account = { userId: reg.body.user_id, email: person.email, password: person.password, token: reg.body.token, sent: [] };
      recordSecrets('security-crash', reg.body.token, reg.body.refresh_token);
      accounts.push(account);
      for (let k = 0; k < 6 && !killed; k++) {
        const bio = `worker ${w} update ${k} ${tag}`;
        account.sent.push(bio);
        let res: Awaited<ReturnType<typeof call>>;
        try {
          res = await call('/api/v1/profile/update-info', {
            method: 'PUT',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${account.token}` },
            body: JSON.stringify({ updated_fields: { bio } }),
          });
        } catch {
          return;
        }
        if (res.status !== 200) throw new Error(`update answered ${res.status}: ${JSON.stringify(res.body)}`);
        account.acked = { version: res.body.version, bio };
      }
    }
  };
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  // Kill once there is something to lose: acknowledged registrations and updates, and requests in flight.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (accounts.length < 12 || accounts.filter((a) => a.acked).length < 8 || inFlight < 3)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  inFlightAtKill = inFlight;
  first.kill('SIGKILL');
  killed = true;
  await Promise.all(workers);
  await new Promise<void>((r) => (first.exitCode !== null || first.signalCode !== null ? r() : first.once('exit', () => r())));
  t.is(first.signalCode, 'SIGKILL');
  // PostgreSQL goes down as in a power cut too: no checkpoint, recovery from the write-ahead log.
  pgServer.crashAndRestart();

  const second = await startServer('security-crash-server-2', env, url);
  children.push(second);
  db = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });

  // Every acknowledged registration and update is there.
  let lost = 0;
  for (const a of accounts) {
    const user = await db('users').where({ id: a.userId }).first();
    const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${a.token}` } });
    if (!user || me.status !== 200) {
      lost++;
      t.fail(`registration of ${a.userId} was acknowledged but is gone (session answered ${me.status})`);
      continue;
    }
    if (!a.acked) continue;
    const profile = (await (await fetch(`${url}/api/v1/profile`, { headers: { authorization: `Bearer ${a.token}` } })).json()) as {
      version: number;
      fields: { bio: { value: string } };
    };
    const later = a.sent.slice(a.sent.indexOf(a.acked.bio));
    if (profile.version < a.acked.version || !later.includes(profile.fields.bio.value)) {
      lost++;
      t.fail(
        `update to version ${a.acked.version} (${a.acked.bio}) was acknowledged, the profile holds version ${profile.version} (${profile.fields.bio.value})`,
      );
    }
  }

  // The outbox drains: messages claimed by the killed process come due again once their lease (10 s) runs out.
  const drainBy = Date.now() + 120_000;
  while (Date.now() < drainBy) {
    const [{ n }] = await db('outbox').whereNot({ state: 'sent' }).count({ n: '*' });
    if (Number(n) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const outbox = (await db('outbox').select('idempotency_key', 'state', 'attempts')) as {
    idempotency_key: string;
    state: string;
    attempts: number;
  }[];
  t.deepEqual(
    outbox.filter((o) => o.state !== 'sent'),
    [],
    'every outbox message is delivered',
  );
  await new Promise((r) => setTimeout(r, 300));
  const received = new Map<string, number>();
  for (const m of smtp.messages) received.set(m.messageId ?? '', (received.get(m.messageId ?? '') ?? 0) + 1);
  const expected = new Set(outbox.map((o) => `<${o.idempotency_key}@ringfence>`));
  t.deepEqual(
    [...received.keys()].filter((id) => !expected.has(id)),
    [],
    'no mail arrived that the outbox does not hold',
  );
  t.deepEqual(
    [...expected].filter((id) => !received.has(id)),
    [],
    'every outbox message arrived',
  );
  for (const a of accounts) {
    t.true(
      smtp.messages.some((m) => /verification code/.test(m.subject ?? '') && (m.to && !Array.isArray(m.to) ? m.to.text : '').includes(a.email)),
      `the verification code of ${a.email} was mailed`,
    );
  }
  const redelivered = [...received.values()].filter((n) => n > 1).length;

  // The audit chain verifies, and records every acknowledged write.
  const chain = await verifyAuditChain(db);
  t.true(chain.ok, `the audit chain breaks at ${chain.brokenAt}`);
  const registered = new Set((await db('audit_events').where({ action: 'user.register' }).pluck('subject')) as string[]);
  t.deepEqual(
    accounts.filter((a) => !registered.has(`user:${a.userId}`)).map((a) => a.userId),
    [],
    'every registration is audited',
  );

  const updates = accounts.filter((a) => a.acked).length;
  t.log(
    `${accounts.length} registrations and ${updates} people's updates acknowledged, ${inFlightAtKill} requests in flight at SIGKILL; ` +
      `acknowledged writes lost: ${lost}; ${outbox.length} outbox mails, ${received.size} distinct delivered, ${redelivered} redelivered (dropped by Message-ID), ${smtp.dropped.length} SMTP connections cut mid-mail by the kill; audit chain of ${chain.checked} events verifies`,
  );
  t.is(lost, 0);
});

// What the kill above does to mail when it strikes mid-send, made certain: a sender reset inside a mail transaction
// (after MAIL FROM) is an 'error' of the SMTP server, which used to be an uncaught exception in this process.
test('the SMTP sink outlives a sender reset in the middle of a mail', async (t) => {
  const sink = await startSmtpSink();
  try {
    const { port } = new URL(sink.url);
    const socket = connect(Number(port), '127.0.0.1');
    let said = '';
    socket.on('data', (chunk) => (said += chunk.toString()));
    /** Waits for the server's n-th final reply line (`250 …`, not `250-…`) and returns its code. */
    const reply = async (n: number) => {
      for (let i = 0; i < 300 && (said.match(/^\d{3} /gm) ?? []).length < n; i++) await new Promise((r) => setTimeout(r, 10));
      return (said.match(/^\d{3}(?= )/gm) ?? [])[n - 1];
    };
    t.is(await reply(1), '220');
    const steps = [
      ['EHLO crash.test', '250'],
      ['MAIL FROM:<a@example.org>', '250'],
      ['RCPT TO:<b@example.org>', '250'],
      ['DATA', '354'],
    ];
    for (const [k, [line, code]] of steps.entries()) {
      socket.write(`${line}\r\n`);
      t.is(await reply(k + 2), code, `${line}: ${said}`);
    }
    socket.write('Subject: cut short\r\n\r\nhalf a mess');
    await new Promise((r) => setTimeout(r, 50));
    socket.resetAndDestroy();
    for (let i = 0; i < 200 && sink.dropped.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.deepEqual(
      sink.dropped.map((e) => e.code),
      ['ECONNRESET'],
    );
    t.is(sink.messages.length, 0, 'nothing half-received counts as a mail');
  } finally {
    await sink.close();
  }
});
