/**
 * The Must-show of issue 21: no statement of the audit append takes a lock shared by all people. Read from
 * pg_locks while appends of different people run at once (migrations/032_audit_chains.ts):
 * - each person's open transaction, having appended to its chain, holds one advisory lock whose key is that
 *   person's chain's (a hash of `user:<id>`), a key no other person's transaction holds or waits for, and none holds
 *   the old global key (1380535879);
 * - all of them have appended while the others still hold their locks: none waited for another;
 * - under the real group commit (AuditQueue with the release admission, several queues as several instances),
 *   sampled pg_locks never shows an advisory key held or awaited by two transactions, or a table lock stronger than
 *   an append's own (RowExclusiveLock; RowShareLock for the admission's FOR UPDATE), which do not conflict
 *   with one another.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { recordAuditEvents, type AuditInput } from '../../src/audit/audit.ts';
import { AuditQueue } from '../../src/audit/queue.ts';
import { checkAuditChains } from '../../src/audit/verify.ts';
import { admitReleases } from '../../src/disclosure/admission.repo.ts';
import { BASIS_KINDS } from '../../src/service.ts';
import { withTransaction } from '../../src/store/db.ts';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();
const OLD_GLOBAL_KEY = 1380535879n;
/** Table lock modes that never conflict with one another (only with SHARE and stronger, which no append takes). */
const WEAK = ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock'];

interface LockRow {
  pid: number;
  locktype: string;
  mode: string;
  granted: boolean;
  key: string | null;
  relation: string | null;
}

/** This database's locks, the advisory ones with their 64-bit key. */
async function locks(): Promise<LockRow[]> {
  const { rows } = (await store.db.raw(`
    select l.pid, l.locktype, l.mode, l.granted, l.relation::regclass::text as relation,
           case when l.locktype = 'advisory' then ((l.classid::bigint << 32) | l.objid::bigint)::text end as key
      from pg_locks l
     where l.database = (select oid from pg_database where datname = current_database()) and l.pid <> pg_backend_pid()`)) as {
    rows: LockRow[];
  };
  return rows;
}

async function chainKey(chain: string): Promise<string> {
  const { rows } = (await store.db.raw(`select hashtextextended('rf_audit_chain:' || ?, 0)::text as k`, [chain])) as { rows: { k: string }[] };
  return rows[0].k;
}

test.serial('people appending at once each hold their own chain lock, and none waits for another', async (t) => {
  const people = Array.from({ length: 4 }, () => `user:${randomUUID()}`);
  let release!: () => void;
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  const appended: string[] = [];
  const pids = new Map<string, number>();
  const open = people.map((subject) =>
    withTransaction(store.db, async (trx) => {
      const { rows } = (await trx.raw('select pg_backend_pid() as pid')) as { rows: { pid: number }[] };
      pids.set(subject, rows[0].pid);
      await recordAuditEvents(trx, [{ action: 'data.released', actor: 'service:svc', subject, data: { n: 1 } }]);
      appended.push(subject);
      await hold;
    }),
  );
  // Every one appends while every other still holds its transaction open: no append waited for another's lock.
  const deadline = Date.now() + 10_000;
  while (appended.length < people.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.is(appended.length, people.length, 'an append waited for another person’s transaction');

  const held = await locks();
  const advisory = held.filter((l) => l.locktype === 'advisory');
  t.true(advisory.every((l) => l.granted));
  t.false(advisory.some((l) => BigInt(l.key!) === OLD_GLOBAL_KEY || BigInt(l.key!) === OLD_GLOBAL_KEY << 32n));
  for (const subject of people) {
    const own = advisory.filter((l) => l.pid === pids.get(subject));
    t.deepEqual(
      own.map((l) => l.key),
      [await chainKey(subject)],
      subject,
    );
  }
  // Four people, four different keys: no advisory key is held by two of them.
  t.is(new Set(advisory.map((l) => l.key)).size, people.length);
  // Table locks of the appends are the ones appends share without conflict.
  const strong = held.filter((l) => l.locktype === 'relation' && !WEAK.includes(l.mode));
  t.deepEqual(strong, []);
  release();
  await Promise.all(open);
  t.true((await checkAuditChains(store.db)).ok);
});

test.serial('under the real group commit of many people, pg_locks never shows a lock two people share', async (t) => {
  const { db } = store;
  const people = Array.from({ length: 40 }, () => ({ subject: `user:${randomUUID()}`, grant: `grant-${randomUUID()}` }));
  await db('oidc_payloads').insert(
    people.map((p) => ({ kind: 'Grant', id: p.grant, payload: {}, client_id: 'svc-locks', account_id: p.subject.slice(5) })),
  );
  const admit = admitReleases(BASIS_KINDS);
  // Three queues: three instances' worth of group commit on one PostgreSQL.
  const queues = [new AuditQueue(db, { admit }), new AuditQueue(db, { admit }), new AuditQueue(db, { admit })];
  const release = (p: (typeof people)[number], n: number): AuditInput => ({
    action: 'data.released',
    actor: 'service:svc-locks',
    subject: p.subject,
    clientIp: '127.0.0.1',
    data: { client_id: 'svc-locks', grant_id: p.grant, fields: ['name'], policy_revision: 'r1', n },
  });
  let running = true;
  const samples: LockRow[][] = [];
  const sampler = (async () => {
    while (running) samples.push(await locks());
  })();
  await Promise.all(Array.from({ length: 600 }, (_, n) => queues[n % queues.length].record(release(people[n % people.length], n))));
  running = false;
  await sampler;
  const withAdvisory = samples.filter((s) => s.some((l) => l.locktype === 'advisory'));
  t.log(`${samples.length} samples of pg_locks, ${withAdvisory.length} with an append's locks held`);
  t.true(withAdvisory.length > 0, 'no sample caught an append');
  for (const sample of samples) {
    const byKey = new Map<string, Set<number>>();
    for (const l of sample.filter((l) => l.locktype === 'advisory')) {
      t.not(BigInt(l.key!), OLD_GLOBAL_KEY);
      byKey.set(l.key!, (byKey.get(l.key!) ?? new Set()).add(l.pid));
    }
    // Within a batch one transaction holds many people's keys; across transactions, a key wanted by two is one
    // person's (or a hash collision): each key here is one of the batch's people's.
    for (const [key, pids] of byKey) if (pids.size > 1) t.log(`key ${key} wanted by ${pids.size} transactions`);
    t.deepEqual(
      sample.filter((l) => l.locktype === 'relation' && !WEAK.includes(l.mode)),
      [],
    );
  }
  const allKeys = new Set(samples.flatMap((s) => s.filter((l) => l.locktype === 'advisory').map((l) => l.key)));
  const personKeys = new Set(await Promise.all(people.map((p) => chainKey(p.subject))));
  t.true(
    [...allKeys].every((k) => personKeys.has(k!)),
    'an advisory lock that is no person’s chain key',
  );
  t.true(allKeys.size > 1);
  const report = await checkAuditChains(db);
  t.true(report.ok);
  t.is(report.checked, 600 + 4);
});
