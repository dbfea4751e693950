import test from 'ava';
import { recordAudit } from '../../src/audit/audit.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();

test.serial('concurrent appends form one unbroken chain', async (t) => {
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      recordAudit(store.db, { action: 'test.event', actor: `user:${i}`, subject: 'user:s', clientIp: '127.0.0.1', data: { i } }),
    ),
  );
  const verdict = await verifyAuditChain(store.db);
  t.true(verdict.ok);
  t.is(verdict.checked, 20);
});

test.serial('editing an event breaks the chain at that event', async (t) => {
  const third = await store.db('audit_events').orderBy('seq').offset(2).first();
  await store.db('audit_events').where({ seq: third.seq }).update({ actor: 'user:someone-else' });
  const verdict = await verifyAuditChain(store.db);
  t.false(verdict.ok);
  t.is(verdict.brokenAt, Number(third.seq));
});
