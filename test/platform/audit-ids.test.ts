import test from 'ava';
import { recordAudit } from '../../src/audit/audit.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test.serial('event ids are time-ordered (uuid v7): appended later, named higher; the chain verifies', async (t) => {
  const before = Date.now();
  for (let i = 0; i < 5; i++) {
    await recordAudit(store.db, { action: 'test.event', actor: 'operator', data: { i } });
    await new Promise((r) => setTimeout(r, 2));
  }
  const rows = (await store.db('audit_events').orderBy('seq').select('id', 'at')) as { id: string; at: Date }[];
  t.is(rows.length, 5);
  for (const row of rows) {
    t.regex(row.id, V7);
    // The first 48 bits are the event's own time (`at`), in milliseconds.
    const ms = Number.parseInt(row.id.replaceAll('-', '').slice(0, 12), 16);
    t.is(ms, new Date(row.at).getTime());
    t.true(ms >= before);
  }
  const ids = rows.map((r) => r.id);
  t.deepEqual([...ids].sort(), ids);
  t.deepEqual(await verifyAuditChain(store.db), { ok: true, checked: 5 });
});
