/**
 * `npm run audit -- verify` walks every audit chain — each person's own — and checks it against the signed
 * checkpoints (src/audit/checkpoints.ts), naming the first row altered, deleted or reordered, and a chain rewritten,
 * cut short or deleted whole since a checkpoint signed its head. Each case tampers with a log of its own, in a
 * database of its own, with SQL, as someone with database access would; the checkpoints are signed with a key of the
 * test's, whose public half the command is given as the published JWKS (--jwks).
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { recordAuditEvents } from '../../src/audit/audit.ts';
import { writeCheckpoint } from '../../src/audit/checkpoints.ts';
import { loadConfig } from '../../src/config.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { migrateLatest } from '../../src/store/migrations.ts';
import { createDatabase } from '../helpers/app.ts';
import { runCli } from '../helpers/cli.ts';

interface Signer {
  issuer: string;
  key: JWK & { kid: string; alg: string };
  jwksFile: string;
}

async function signer(kid = `k-${randomUUID().slice(0, 8)}`): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'rf-jwks-'));
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }));
  return { issuer: 'https://ringfence.test', key: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, jwksFile };
}

interface Log {
  store: Store;
  url: string;
  /** The person whose chain the case tampers with. */
  person: string;
  /** Their rows' ids, in chain order. */
  ids: string[];
  signer: Signer;
  /** Signs a checkpoint of the log as it is now (a new interval each time). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

/** A fresh database with one person's chain of `n` events beside two others', and no checkpoint yet. */
async function log(n: number): Promise<Log> {
  const db = await createDatabase();
  const store = await openStore(loadConfig({ DATABASE_URL: db.url }));
  await migrateLatest(store.db);
  const person = `user:${randomUUID()}`;
  const others = [`user:${randomUUID()}`, `user:${randomUUID()}`];
  for (let i = 1; i <= n; i++) {
    await recordAuditEvents(store.db, [
      { action: 'test.event', actor: 'operator', subject: person, data: { n: i } },
      { action: 'test.event', actor: 'operator', subject: others[i % 2], data: { n: i } },
    ]);
  }
  const ids = ((await store.db('audit_events').where({ chain: person }).orderBy('chain_seq').select('id')) as { id: string }[]).map((r) => r.id);
  const s = await signer();
  let intervals = 0;
  return {
    store,
    url: db.url,
    person,
    ids,
    signer: s,
    async checkpoint() {
      // Each checkpoint in an interval (of one second) of its own: wait for the next one to start.
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
      intervals++;
      const written = await writeCheckpoint(store.db, s, { intervalSeconds: 1, keepLeaves: 24 });
      if (!written) throw new Error(`checkpoint ${intervals} was not written`);
    },
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

const verify = (l: Log, json = false) =>
  runCli('audit', ['verify', '--jwks', l.signer.jwksFile, ...(json ? ['--json'] : [])], { DATABASE_URL: l.url });
const brokenOf = async (l: Log) =>
  JSON.parse((await verify(l, true)).stdout) as { ok: boolean; broken: { chain: string; broken: Record<string, unknown> }[] };

test('a whole log verifies: exit 0, every chain and checkpoint checked', async (t) => {
  const l = await log(5);
  try {
    await l.checkpoint();
    const run = await verify(l);
    t.is(run.code, 0, run.stdout + run.stderr);
    t.regex(run.stdout, /3 of 3 per-person chains whole/);
    t.regex(run.stdout, /1 signed checkpoints, newest \S+ over 3 chains, root [0-9a-f]{64}/);
    const json = JSON.parse((await verify(l, true)).stdout);
    t.like(json, { ok: true, checked: 10, chains: 3, broken: [], checkpoints: { ok: true, count: 1, unverifiable: 0, uncovered: 0 } });
  } finally {
    await l.close();
  }
});

test('an altered row fails verification and is named with its chain', async (t) => {
  const l = await log(6);
  try {
    await l.store
      .db('audit_events')
      .where({ chain: l.person, chain_seq: 3 })
      .update({ data: { n: 99 } });
    const run = await verify(l);
    t.is(run.code, 1);
    t.regex(run.stdout, new RegExp(`chain ${l.person} BROKEN \\(altered\\)`));
    t.true(run.stdout.includes(l.ids[2]));
    const json = await brokenOf(l);
    t.like(json.broken[0], { chain: l.person, checked: 2, broken: { problem: 'altered', chainSeq: 3, id: l.ids[2] } });
  } finally {
    await l.close();
  }
});

test('a deleted row fails verification and is named by its place in the chain', async (t) => {
  const l = await log(6);
  try {
    await l.store.db('audit_events').where({ chain: l.person, chain_seq: 4 }).delete();
    const run = await verify(l);
    t.is(run.code, 1);
    t.regex(run.stdout, /row 4 was deleted/);
    const json = await brokenOf(l);
    t.like(json.broken[0], { chain: l.person, checked: 3, broken: { problem: 'deleted', chainSeq: 4, id: l.ids[4] } });
  } finally {
    await l.close();
  }
});

test('two swapped rows fail verification; the first one out of order is named', async (t) => {
  const l = await log(6);
  try {
    const [a, b] = (await l.store.db('audit_events').where({ chain: l.person }).whereIn('chain_seq', [2, 3]).orderBy('chain_seq').select('seq')) as {
      seq: string;
    }[];
    // seq is the primary key: swap through a free value.
    await l.store.db.transaction(async (trx) => {
      await trx('audit_events').where({ seq: a.seq }).update({ seq: -1 });
      await trx('audit_events').where({ seq: b.seq }).update({ seq: a.seq });
      await trx('audit_events').where({ seq: -1 }).update({ seq: b.seq });
    });
    const json = await brokenOf(l);
    t.like(json.broken[0], { chain: l.person, checked: 1, broken: { problem: 'reordered', chainSeq: 3, id: l.ids[2] } });
  } finally {
    await l.close();
  }
});

test('the first row deleted is named too', async (t) => {
  const l = await log(3);
  try {
    await l.store.db('audit_events').where({ chain: l.person, chain_seq: 1 }).delete();
    const json = await brokenOf(l);
    t.like(json.broken[0], { chain: l.person, checked: 0, broken: { problem: 'deleted', chainSeq: 1 } });
  } finally {
    await l.close();
  }
});

test('a chain deleted whole — rows and head — after a checkpoint signed it is named as vanished', async (t) => {
  const l = await log(4);
  try {
    await l.checkpoint();
    await l.store.db('audit_events').where({ chain: l.person }).delete();
    await l.store.db('audit_chain_heads').where({ chain: l.person }).delete();
    const run = await verify(l);
    t.is(run.code, 1);
    t.regex(run.stdout, new RegExp(`chain ${l.person} BROKEN \\(vanished\\)`));
    t.regex(run.stdout, /2 of 3 per-person chains whole/);
  } finally {
    await l.close();
  }
});

test('the newest rows of a chain deleted, and its head set back, after a checkpoint: truncated', async (t) => {
  const l = await log(5);
  try {
    await l.checkpoint();
    await l.store.db('audit_events').where({ chain: l.person }).where('chain_seq', '>', 3).delete();
    const third = await l.store.db('audit_events').where({ chain: l.person, chain_seq: 3 }).first('hash');
    await l.store.db('audit_chain_heads').where({ chain: l.person }).update({ chain_seq: 3, hash: third.hash });
    const json = await brokenOf(l);
    t.false(json.ok);
    t.deepEqual(
      json.broken.map((c) => [c.chain, c.broken.problem]),
      [[l.person, 'truncated']],
    );
  } finally {
    await l.close();
  }
});

test('a chain recomputed from its genesis after a checkpoint (whole again, but not the chain signed): rewritten', async (t) => {
  const l = await log(3);
  try {
    await l.checkpoint();
    // The attacker deletes the person's chain and appends a history of their own making through the real append.
    await l.store.db('audit_events').where({ chain: l.person }).delete();
    await l.store.db('audit_chain_heads').where({ chain: l.person }).delete();
    for (let i = 1; i <= 4; i++)
      await recordAuditEvents(l.store.db, [{ action: 'test.event', actor: 'operator', subject: l.person, data: { forged: i } }]);
    const json = await brokenOf(l);
    t.deepEqual(
      json.broken.map((c) => [c.chain, c.broken.problem, c.broken.chainSeq]),
      [[l.person, 'rewritten', 3]],
    );
  } finally {
    await l.close();
  }
});

test('a checkpoint deleted between two others breaks the checkpoints’ own chain', async (t) => {
  const l = await log(2);
  try {
    await l.checkpoint();
    await recordAuditEvents(l.store.db, [{ action: 'test.event', actor: 'operator', subject: l.person }]);
    await l.checkpoint();
    await recordAuditEvents(l.store.db, [{ action: 'test.event', actor: 'operator', subject: l.person }]);
    await l.checkpoint();
    t.is((await verify(l)).code, 0);
    const middle = (await l.store.db('audit_checkpoints').orderBy('interval_start').offset(1).first('interval_start')) as { interval_start: Date };
    await l.store.db('audit_checkpoints').where({ interval_start: middle.interval_start }).delete();
    const run = await verify(l);
    t.is(run.code, 1);
    t.regex(run.stdout, /checkpoint BROKEN \(link\)/);
  } finally {
    await l.close();
  }
});

test('a checkpoint signed by another key, or with its root changed, fails; one whose key is not published cannot be checked', async (t) => {
  const l = await log(2);
  try {
    await l.checkpoint();
    const row = (await l.store.db('audit_checkpoints').first('interval_start', 'jws')) as { interval_start: Date; jws: string };
    // Re-signed by a key that is not the issuer's, under the issuer key's kid.
    const forger = await signer(l.signer.key.kid);
    const forgery = await import('jose').then(async ({ CompactSign, importJWK }) =>
      new CompactSign(Buffer.from(row.jws.split('.')[1], 'base64url'))
        .setProtectedHeader({ alg: 'ES256', kid: l.signer.key.kid, typ: 'rf-audit-checkpoint+jws' })
        .sign(await importJWK(forger.key, 'ES256')),
    );
    await l.store.db('audit_checkpoints').where({ interval_start: row.interval_start }).update({ jws: forgery });
    let run = await verify(l);
    t.is(run.code, 1);
    t.regex(run.stdout, /checkpoint BROKEN \(signature\)/);
    await l.store
      .db('audit_checkpoints')
      .where({ interval_start: row.interval_start })
      .update({ jws: row.jws, root: 'f'.repeat(64) });
    run = await verify(l);
    t.regex(run.stdout, /checkpoint BROKEN \(content\)/);
    await l.store
      .db('audit_checkpoints')
      .where({ interval_start: row.interval_start })
      .update({ root: (await l.store.db('audit_checkpoints').first('root')).root });
    // Checked against another key set: its signature cannot be checked, which is said, and is no break.
    const other = await signer();
    run = await runCli('audit', ['verify', '--jwks', other.jwksFile], { DATABASE_URL: l.url });
    t.regex(run.stdout, /1 checkpoints signed by keys no longer published/);
  } finally {
    await l.close();
  }
});

test('without a master key or a JWKS, verify checks the chains and says the signatures were not checked', async (t) => {
  const l = await log(2);
  try {
    await l.checkpoint();
    const run = await runCli('audit', ['verify'], { DATABASE_URL: l.url, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'rf-nokey-')) });
    t.is(run.code, 0, run.stdout + run.stderr);
    t.regex(run.stdout, /WARNING: signatures not checked/);
    const bad = await runCli('audit', ['checkpoints', '--limit', 'x'], { DATABASE_URL: l.url });
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--limit must be a whole number/);
    const listed = await runCli('audit', ['checkpoints'], { DATABASE_URL: l.url });
    t.is(listed.code, 0, listed.stderr);
    const lines = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    t.is(lines.length, 1);
    t.like(lines[0], { iss: 'https://ringfence.test', tree_size: 3, prev: null });
  } finally {
    await l.close();
  }
});
