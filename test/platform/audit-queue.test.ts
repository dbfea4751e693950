/**
 * The group commit of disclosures (src/audit/queue.ts with the grant admission of src/disclosure/admission.repo.ts,
 * migrations/009_audit_append.ts), on PostgreSQL and on the embedded PGlite alike: one statement admits the events
 * whose grant is still live, appends them to the chain and refuses the others; appends from other transactions
 * interleave into one verified chain.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { recordAuditEvents, type AuditInput } from '../../src/audit/audit.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { AuditQueue } from '../../src/audit/queue.ts';
import { Unauthenticated } from '../../src/errors.ts';
import { admitReleases } from '../../src/disclosure/admission.repo.ts';
import { BASIS_KINDS } from '../../src/service.ts';
import { withTransaction } from '../../src/store/db.ts';
import { useMigratedStore } from '../helpers/app.ts';

// Every kind of basis, as the service registers them: each kind's liveness SQL runs on both stores.
const admitDisclosures = admitReleases(BASIS_KINDS);

const postgres = useMigratedStore();
const pglite = useMigratedStore({ embedded: true });

const disclosure = (grantId: string, n: number): AuditInput => ({
  action: 'data.released',
  actor: 'service:svc-queue',
  subject: `user:${randomUUID()}`,
  clientIp: '127.0.0.1',
  data: { client_id: 'svc-queue', grant_id: grantId, fields: ['name', 'bio'], policy_revision: 'r1', n },
});

for (const kind of ['postgres', 'pglite'] as const) {
  const store = () => (kind === 'postgres' ? postgres : pglite);

  test.serial(`${kind}: a batch records the disclosures of live grants only, in order, and refuses the others`, async (t) => {
    const { db } = store();
    const live = `grant-live-${kind}`;
    await db('oidc_payloads').insert({ kind: 'Grant', id: live, payload: {}, client_id: 'svc-queue', account_id: randomUUID() });
    const queue = new AuditQueue(db, { admit: admitDisclosures });
    const inputs = [disclosure(live, 1), disclosure('grant-revoked', 2), disclosure(live, 3), disclosure(live, 4)];
    // Recorded together (one batch), while another transaction appends events of its own.
    const settled = await Promise.allSettled([
      ...inputs.map((input) => queue.record(input)),
      withTransaction(db, (trx) =>
        recordAuditEvents(trx, [
          { action: 'test.other', actor: 'operator' },
          { action: 'test.other', actor: 'operator' },
        ]),
      ),
    ]);
    t.deepEqual(
      settled.slice(0, 4).map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const refusal = (settled[1] as PromiseRejectedResult).reason as unknown;
    t.true(refusal instanceof Unauthenticated);
    t.is((refusal as Unauthenticated).code, 'invalid_token');

    const released = (await db('audit_events').where({ action: 'data.released' }).orderBy('seq').select('data')) as {
      data: { n: number; grant_id: string };
    }[];
    t.deepEqual(
      released.map((r) => r.data.n),
      [1, 3, 4],
    );
    t.true(released.every((r) => r.data.grant_id === live));
    t.is(Number((await db('audit_events').where({ action: 'test.other' }).count({ n: '*' }))[0].n), 2);
    t.deepEqual(await verifyAuditChain(db), { ok: true, checked: 5 });
  });

  test.serial(`${kind}: an empty admission appends nothing and leaves the chain as it was`, async (t) => {
    const { db } = store();
    const queue = new AuditQueue(db, { admit: admitDisclosures });
    const before = Number((await db('audit_events').count({ n: '*' }))[0].n);
    await t.throwsAsync(queue.record(disclosure('grant-never-existed', 5)), { instanceOf: Unauthenticated });
    t.is(Number((await db('audit_events').count({ n: '*' }))[0].n), before);
    t.true((await verifyAuditChain(db)).ok);
  });
}

test.serial(
  'a person’s batch in flight holds back only that person: another person’s events are written meanwhile, each chain in order',
  async (t) => {
    const { db } = postgres;
    const alice = `user:${randomUUID()}`;
    const bob = `user:${randomUUID()}`;
    const queue = new AuditQueue(db, { maxWriters: 2 });
    // Another instance is appending to Alice's chain: its transaction holds her chain's lock.
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const held = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const other = withTransaction(db, async (trx) => {
      await trx.raw(`select pg_advisory_xact_lock(hashtextextended('rf_audit_chain:' || ?, 0))`, [alice]);
      locked();
      await holding;
    });
    await held;
    const event = (subject: string, n: number): AuditInput => ({ action: 'test.event', actor: 'operator', subject, data: { n } });
    const done: string[] = [];
    const alices = [1, 2, 3].map((n) => queue.record(event(alice, n)).then(() => done.push(`alice ${n}`)));
    // Alice's batch waits for her chain; Bob's is written by the second writer all the same.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const bobs = [4, 5].map((n) => queue.record(event(bob, n)).then(() => done.push(`bob ${n}`)));
    await Promise.all(bobs);
    t.deepEqual(done, ['bob 4', 'bob 5']);
    // Alice's events queued behind her batch keep their order once her chain is free.
    const more = queue.record(event(alice, 6)).then(() => done.push('alice 6'));
    release();
    await other;
    await Promise.all([...alices, more]);
    await queue.flush();
    const rows = (await db('audit_events').where({ chain: alice }).orderBy('chain_seq').select('data')) as { data: { n: number } }[];
    t.deepEqual(
      rows.map((r) => r.data.n),
      [1, 2, 3, 6],
    );
    t.true((await verifyAuditChain(db)).ok);
  },
);
