/**
 * One hash chain per person (migrations/032_audit_chains.ts, src/audit/verify.ts): events of different people go
 * to different chains, each numbered from 1; tampering with a row in one person's chain names that chain; rows
 * written before the migration still verify as the legacy chain.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { recordAudit, recordAuditEvents } from '../../src/audit/audit.ts';
import { checkAuditChains } from '../../src/audit/verify.ts';
import { readdirSync } from 'node:fs';
import type { Knex } from 'knex';
import { migrateLatest } from '../../src/store/migrations.ts';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();

test.serial('events of different people form one chain each, numbered from 1, and every chain verifies', async (t) => {
  const alice = `user:${randomUUID()}`;
  const bob = `user:${randomUUID()}`;
  await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      recordAudit(store.db, { action: 'test.event', actor: 'service:svc', subject: i % 2 ? alice : bob, data: { i } }),
    ),
  );
  await recordAuditEvents(store.db, [
    { action: 'test.op', actor: 'operator' },
    { action: 'test.event', actor: 'service:svc', subject: alice },
    { action: 'test.op', actor: 'anonymous' },
  ]);
  const rows = (await store.db('audit_events').orderBy('seq').select('chain', 'chain_seq', 'subject')) as {
    chain: string;
    chain_seq: string;
    subject: string | null;
  }[];
  for (const chain of [alice, bob, 'system']) {
    const own = rows.filter((r) => r.chain === chain);
    t.deepEqual(
      own.map((r) => Number(r.chain_seq)),
      own.map((_, i) => i + 1),
      chain,
    );
  }
  t.is(rows.filter((r) => r.chain === alice).length, 7);
  t.is(rows.filter((r) => r.chain === 'system').length, 2);
  const report = await checkAuditChains(store.db);
  t.true(report.ok);
  t.is(report.checked, 15);
  t.deepEqual(report.chains.map((c) => c.chain).sort(), [alice, bob, 'system'].sort());
});

test.serial('tampering a row in one person’s chain is found, with that chain named, and the others stay whole', async (t) => {
  const carol = `user:${randomUUID()}`;
  const dave = `user:${randomUUID()}`;
  for (let i = 0; i < 4; i++) {
    await recordAuditEvents(store.db, [
      { action: 'test.event', actor: 'service:svc', subject: carol, data: { i } },
      { action: 'test.event', actor: 'service:svc', subject: dave, data: { i } },
    ]);
  }
  const third = await store.db('audit_events').where({ chain: carol, chain_seq: 3 }).first();
  await store
    .db('audit_events')
    .where({ seq: third.seq })
    .update({ data: { i: 99 } });
  let report = await checkAuditChains(store.db);
  t.false(report.ok);
  let broken = report.chains.filter((c) => !c.ok);
  t.deepEqual(
    broken.map((c) => [c.chain, c.broken?.problem, c.broken?.chainSeq]),
    [[carol, 'altered', 3]],
  );
  t.true(broken[0].broken!.message.includes(carol));
  t.true(report.chains.find((c) => c.chain === dave)!.ok);

  // A row removed from the middle of a chain is named as deleted.
  await store.db('audit_events').where({ seq: third.seq }).delete();
  report = await checkAuditChains(store.db);
  broken = report.chains.filter((c) => !c.ok);
  t.deepEqual(
    broken.map((c) => [c.chain, c.broken?.problem, c.broken?.chainSeq]),
    [[carol, 'deleted', 3]],
  );
  // A row moved to another person's chain is named too — in the chain it was put in, and in the one that lost it
  // (its stored head is a row the chain no longer holds).
  const daves = await store.db('audit_events').where({ chain: dave, chain_seq: 4 }).first();
  await store.db('audit_events').where({ seq: daves.seq }).update({ chain: carol });
  report = await checkAuditChains(store.db);
  t.deepEqual(
    report.chains
      .filter((c) => !c.ok)
      .map((c) => c.chain)
      .sort(),
    [carol, dave].sort(),
  );
  await store.db('audit_events').whereIn('chain', [carol]).delete();
});

const legacy = useMigratedStore({ migrate: false });

/** The migrations before per-person chains, applied as src/store/migrations.ts applies them (same table). */
async function migrateBeforeChains(db: Knex): Promise<void> {
  const dir = new URL('../../migrations/', import.meta.url);
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.ts$/.test(f) && f < '032')
    .sort();
  await db.migrate.latest({
    tableName: 'knex_migrations',
    migrationSource: {
      getMigrations: async () => files,
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => {
        const { up } = (await import(new URL(name, dir).href)) as Knex.Migration;
        return { up, down: async () => {} };
      },
    },
  });
}

test.serial('the global chain written before the migration still verifies as the legacy chain', async (t) => {
  // Migrate up to the last migration before per-person chains, write the old global chain, then migrate on.
  await migrateBeforeChains(legacy.db);
  for (let i = 0; i < 6; i++) {
    await recordAuditEvents(legacy.db, [{ action: 'test.old', actor: 'operator', subject: i % 2 ? 'user:a' : undefined, data: { i } }]);
  }
  await migrateLatest(legacy.db);
  await recordAuditEvents(legacy.db, [{ action: 'test.new', actor: 'service:svc', subject: 'user:a' }]);
  const report = await checkAuditChains(legacy.db);
  t.true(report.ok);
  t.is(report.legacy.checked, 6);
  t.deepEqual(
    report.chains.map((c) => [c.chain, c.checked]),
    [['user:a', 1]],
  );
  // The legacy chain is still checked as before: an edit breaks it at that row.
  const second = await legacy.db('audit_events').whereNull('chain').orderBy('seq').offset(1).first();
  await legacy.db('audit_events').where({ seq: second.seq }).update({ actor: 'someone' });
  const after = await checkAuditChains(legacy.db);
  t.false(after.legacy.ok);
  t.is(after.legacy.broken?.seq, Number(second.seq));
});
