/**
 * update-info's `services_told` counted without reading the person's grants (src/features/deliveries/subscribers.repo.ts,
 * subscriber_groups): after every write that can change it, in a random order, the count from the stored groups
 * equals the count of the worker's full statement — one event per service that can read a changed field
 * (expandProfileEvents) — and update-info answers it; the stored groups are used again until such a write.
 */
import test from 'ava';
import { countServicesTold, expandProfileEvents } from '../../src/features/deliveries/events.ts';
import { readSubscriberCounts } from '../../src/features/deliveries/subscribers.repo.ts';
import { grantsChanged } from '../../src/oidc/adapter.ts';
import { replaceGrants } from '../../src/oidc/grants.repo.ts';
import { withTransaction } from '../../src/store/db.ts';
import { useTestApp } from '../helpers/app.ts';
import { addService, dataResource } from '../helpers/oidc.ts';
import { startReceiver, type Receiver } from '../helpers/webhooks.ts';
import { registerNamedPerson } from '../services/fixtures.ts';
import { storeGrant } from './fixtures.ts';
import { FIELDS, random, randomWrite, world, type Person } from './subscriber-writes.ts';

const app = useTestApp();
let hooks: Receiver;
test.before(async () => {
  hooks = await startReceiver();
  // Nothing is delivered: what is counted is the decision at the write.
  await app.service.worker.stop();
});
test.after.always(async () => {
  await hooks?.close();
});

/** What the worker's expansion would tell now: the full statement, one row per service (listSubscribers). */
async function fullCount(userId: string, fields: string[]): Promise<number> {
  const { deps } = app.service;
  return app.service.deps.db.transaction(
    async (trx) =>
      (await expandProfileEvents(trx, deps, { type: 'profile.updated', userId, version: 1, fields, timestamp: new Date().toISOString() })).length,
  );
}

const read = (userId: string, changed: string[]) => readSubscriberCounts(app.service.deps.db, { userId, changed, resource: dataResource(app) });

const person = async (handle: string): Promise<Person> => {
  const p = await registerNamedPerson(app, handle);
  return { userId: p.userId, token: p.token };
};

test.serial('after random writes of grants, rings, services, endpoints and documents, the stored count equals the full statement', async (t) => {
  const w = await world(app, hooks.url);
  const people = [await person('counts16_a'), await person('counts16_b')];
  const r = random(16_033);
  const changes = [['home_address'], ['bio'], ['home_address', 'bio'], ['email'], ['blood_type'], ['occupation'], [...FIELDS]];
  let hits = 0;
  let misses = 0;
  let nonZero = 0;
  for (let step = 0; step < 200; step++) {
    const who = r.pick(people);
    const what = await randomWrite(app, r, w, who);
    for (const p of people) {
      const changed = r.pick(changes);
      // The first read after the write finds the stored groups current or not; either way the answer is exact.
      if ((await read(p.userId, changed)).cached) hits++;
      else misses++;
      const told = await countServicesTold(app.service.deps.db, app.service.deps, p.userId, changed);
      const expected = await fullCount(p.userId, changed);
      t.is(told, expected, `step ${step} (${what}, by ${p === who ? 'this person' : 'the other'}), changed ${changed.join(',')}`);
      if (expected > 0) nonZero++;
      t.true((await read(p.userId, changed)).cached, `step ${step}: stored and current until the next write`);
    }
  }
  t.log(`${hits} reads found the stored groups current after a write, ${misses} recomputed them; ${nonZero} non-zero counts`);
  t.true(hits > 40, 'writes that do not concern a person leave their groups current');
  t.true(misses > 40, 'writes that concern a person make them be computed again');
  t.true(nonZero > 20, 'the sequence reaches people with subscribers');
});

test.serial("update-info's services_told stays exact across the writes", async (t) => {
  const w = await world(app, hooks.url, 6);
  const people = [await person('counts16_c'), await person('counts16_d')];
  const r = random(2026_12_03);
  let version = 0;
  for (let step = 0; step < 60; step++) {
    const who = r.pick(people);
    const what = await randomWrite(app, r, w, who);
    const p = r.pick(people);
    const field = r.pick(['home_address', 'bio'] as const);
    const expected = await fullCount(p.userId, [field]);
    version++;
    const value = field === 'bio' ? `Bio number ${version}.` : { locality: `Town ${version}`, country: 'CA' };
    const update = await app.request('PUT', '/api/v1/profile/update-info', { token: p.token, json: { updated_fields: { [field]: value } } });
    t.is(update.status, 200, update.text);
    t.is(update.body.services_told, expected, `step ${step} (${what}), ${field} changed`);
  }
});

test.serial("a person's stored groups are kept apart from another's, and a change of grants outside the adapter is counted", async (t) => {
  const w = await world(app, hooks.url, 3);
  const [a, b] = [await person('counts16_e'), await person('counts16_f')];
  for (const c of w.clientIds) await storeGrant(app, a.userId, c);
  const told = await countServicesTold(app.service.deps.db, app.service.deps, a.userId, ['home_address']);
  t.true(told > 0);
  t.is(told, await fullCount(a.userId, ['home_address']));
  t.is(await countServicesTold(app.service.deps.db, app.service.deps, b.userId, ['home_address']), 0);
  t.true((await read(a.userId, ['home_address'])).cached);
  // Grants written in bulk, as a migration or the bench does: whoever writes them says so (grantsChanged).
  await app.service.deps.db('oidc_payloads').where({ kind: 'Grant', account_id: a.userId }).delete();
  await grantsChanged(app.service.deps.db, [a.userId]);
  t.false((await read(a.userId, ['home_address'])).cached);
  t.is(await countServicesTold(app.service.deps.db, app.service.deps, a.userId, ['home_address']), 0);
});

test.serial('a custom ring that names one of two services deciding alike splits their group at once', async (t) => {
  const { deps } = app.service;
  const p = await person('counts16_g');
  const x = (await addService(app, 'government', { webhookUrl: hooks.url })).service.client_id;
  const y = (await addService(app, 'government', { webhookUrl: hooks.url })).service.client_id;
  for (const c of [x, y]) await storeGrant(app, p.userId, c);
  t.is(await countServicesTold(deps.db, deps, p.userId, ['home_address']), 2);
  t.true((await read(p.userId, ['home_address'])).cached);
  const ring = await app.request('POST', '/api/v1/profile/privilege-rings', {
    token: p.token,
    json: { ring_name: 'Only one office', assigned_data: { fields: ['home_address'], services: [x] } },
  });
  t.is(ring.status, 201, ring.text);
  t.false((await read(p.userId, ['home_address'])).cached, 'the rings version moved');
  t.is(await countServicesTold(deps.db, deps, p.userId, ['home_address']), 1, 'only the office the ring names reads the address now');
  t.is(await fullCount(p.userId, ['home_address']), 1);
});

test.serial('a consent narrowed in two steps — the new grant saved, then the earlier one replaced — is counted after each', async (t) => {
  const { deps } = app.service;
  const p = await person('counts16_h');
  const office = (await addService(app, 'government', { webhookUrl: hooks.url })).service.client_id;
  await storeGrant(app, p.userId, office, 'address');
  t.is(await countServicesTold(deps.db, deps, p.userId, ['home_address']), 1);
  // As submitConsent does: the provider saves the narrower grant, then the earlier grants are replaced.
  const narrower = await storeGrant(app, p.userId, office, 'profile');
  t.is(await countServicesTold(deps.db, deps, p.userId, ['home_address']), 1, 'both grants live for a moment');
  await withTransaction(deps.db, (trx) => replaceGrants(trx, p.userId, office, narrower));
  t.is(await countServicesTold(deps.db, deps, p.userId, ['home_address']), 0, 'the address is no longer granted');
  t.is(await fullCount(p.userId, ['home_address']), 0);
});

/** The rows each table's scans produced when the statement (as the driver got it: `$n` bindings) ran again (EXPLAIN ANALYZE), by table. */
async function rowsRead(sql: string, bindings: readonly unknown[]): Promise<Map<string, number>> {
  const { rows } = (await app.service.deps.db.raw(`explain (analyze, format json) ${sql.replace(/\$\d+/g, '?')}`, bindings as never[])) as {
    rows: { 'QUERY PLAN': unknown }[];
  };
  const out = new Map<string, number>();
  const walk = (node: Record<string, unknown>) => {
    const table = node['Relation Name'] as string | undefined;
    if (table) out.set(table, (out.get(table) ?? 0) + Number(node['Actual Rows'] ?? 0) * Number(node['Actual Loops'] ?? 0));
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const plan = rows[0]['QUERY PLAN'];
  walk(((typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: Record<string, unknown> }[])[0].Plan);
  return out;
}

test.serial('update-info with its counts stored reads none of the person’s grants, however many', async (t) => {
  const { db } = app.service.deps;
  const p = await person('counts16_i');
  const w = await world(app, hooks.url, 30);
  for (const c of w.clientIds) await storeGrant(app, p.userId, c);
  const update = (locality: string) =>
    app.request('PUT', '/api/v1/profile/update-info', { token: p.token, json: { updated_fields: { home_address: { locality, country: 'CA' } } } });
  const first = await update('Whistler');
  t.true(first.body.services_told > 0);
  /** The statements of one more update, and what the one that reads the counts read. */
  const measured = async (locality: string) => {
    const seen: { sql: string; bindings: readonly unknown[]; name?: string }[] = [];
    const record = (q: { sql: string; bindings?: readonly unknown[]; options?: { name?: string } }) =>
      seen.push({ sql: q.sql, bindings: q.bindings ?? [], name: q.options?.name });
    db.on('query', record);
    try {
      t.is((await update(locality)).body.services_told, first.body.services_told);
    } finally {
      db.off('query', record);
    }
    const counts = seen.find((q) => q.name === 'rf_subscriber_counts');
    if (!counts) throw new Error('the request did not read its stored counts');
    t.false(
      seen.some((q) => q.name === 'rf_subscriber_groups_store'),
      'nothing was recomputed',
    );
    t.deepEqual(
      seen.filter((q) => q !== counts && q.sql.includes('oidc_payloads')).map((q) => q.sql),
      [],
      'no other statement of the request names the grants',
    );
    return rowsRead(counts.sql, counts.bindings);
  };
  const read = await measured('Squamish');
  t.is(read.get('oidc_payloads') ?? 0, 0, `${w.clientIds.length} grants, none read`);
  t.is(read.get('subscriber_groups'), 1, 'one row, by its key');
  // A document linked to one of the services: that service's grant is read, no other.
  const linked = await app.request('POST', '/api/v1/profile/documents', {
    token: p.token,
    json: { kind: 'lease', title: 'Lease', references: ['home_address'], roles: ['government'], services: [w.clientIds[0]] },
  });
  t.is(linked.status, 201, linked.text);
  t.is((await measured('Pemberton')).get('oidc_payloads'), 1, 'the linked service’s one grant');
});
