/**
 * Signed audit checkpoints through the running service (src/audit/checkpoints.ts, src/audit/merkle.ts): the
 * instance's job writes them with the issuer key; an operator lists them (GET /api/v1/admin/audit/checkpoints) and
 * the verify endpoint checks them; a person gets the newest one covering their own chain with the inclusion proof
 * of its head (GET /api/v1/profile/activity/proof), which the test checks as an outsider would: the JWS against the
 * published issuer JWKS, the root from the head and the path (RFC 9162). Two instances' jobs at once write one
 * checkpoint per interval.
 */
import test from 'ava';
import { compactVerify, createLocalJWKSet } from 'jose';
import { writeCheckpoint } from '../../src/audit/checkpoints.ts';
import { inclusionProof, merkleRoot, sortHeads, verifyInclusion, type ChainHead } from '../../src/audit/merkle.ts';
import { register } from '../accounts/fixtures.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { makeOperator } from '../services/fixtures.ts';

// An interval of an hour: the job's own passes (at start, then every quarter) never race the test's.
const app = useTestApp({ env: { AUDIT_CHECKPOINT_SECONDS: '3600' } });

const head = (i: number): ChainHead => ({ chain: `user:${String(i).padStart(4, '0')}`, seq: i + 1, hash: i.toString(16).padStart(64, '0') });

test('the tree is RFC 9162’s: every leaf’s inclusion proof verifies at every size, and a changed head does not', (t) => {
  for (let n = 1; n <= 33; n++) {
    const heads = sortHeads(Array.from({ length: n }, (_, i) => head(i)));
    const root = merkleRoot(heads);
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(heads, i);
      t.true(verifyInclusion(heads[i], i, n, proof, root), `leaf ${i} of ${n}`);
      t.false(verifyInclusion({ ...heads[i], seq: heads[i].seq + 1 }, i, n, proof, root), `a moved head, leaf ${i} of ${n}`);
      if (n > 1) t.false(verifyInclusion(heads[i], (i + 1) % n, n, proof, root), `another index, leaf ${i} of ${n}`);
    }
  }
  // Sorting makes the tree independent of the order heads were read in; an added or dropped chain changes the root.
  const heads = Array.from({ length: 7 }, (_, i) => head(i));
  t.is(merkleRoot(sortHeads([...heads].reverse())), merkleRoot(sortHeads(heads)));
  t.not(merkleRoot(sortHeads(heads.slice(1))), merkleRoot(sortHeads(heads)));
  t.is(merkleRoot([]), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'the empty tree is the hash of nothing');
});

test.serial('the job signs a checkpoint; the operator lists and verifies it; the person proves their own chain is in it', async (t) => {
  const operator = await register(app);
  await makeOperator(app, operator);
  const person = await register(app);
  for (const bio of ['one', 'two']) {
    t.is((await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: { updated_fields: { bio } } })).status, 200);
  }
  assertError(t, await app.request('GET', '/api/v1/profile/activity/proof', { token: person.token }), 404, 'no_checkpoint');

  // What the instance's job does each interval, once now (an interval already checkpointed is skipped).
  const first = await app.service.checkpoints.runOnce();
  const written = first ?? (await app.service.deps.db('audit_checkpoints').orderBy('interval_start', 'desc').first());
  t.truthy(written);

  const listed = await app.request('GET', '/api/v1/admin/audit/checkpoints?limit=1', { token: operator.token });
  t.is(listed.status, 200, listed.text);
  t.is(listed.body.checkpoints.length, 1);
  const [checkpoint] = listed.body.checkpoints;
  assertError(t, await app.request('GET', '/api/v1/admin/audit/checkpoints', { token: person.token }), 403, 'not_an_operator');
  assertError(t, await app.request('GET', '/api/v1/admin/audit/checkpoints?cursor=bm9wZQ', { token: operator.token }), 400, 'invalid_cursor');

  const verdict = await app.request('GET', '/api/v1/admin/audit/verify', { token: operator.token });
  t.is(verdict.status, 200, verdict.text);
  t.like(verdict.body, { ok: true, broken: null, checkpoints: { ok: true, unverifiable: 0, problems: [] } });
  t.true(verdict.body.checkpoints.count >= 1);

  const proof = await app.request('GET', '/api/v1/profile/activity/proof', { token: person.token });
  t.is(proof.status, 200, proof.text);
  t.is(proof.body.chain, `user:${person.user_id}`);
  t.deepEqual(proof.body.checkpoint, checkpoint);
  // As an outsider checks it: the JWS under the published issuer keys, then the head's path to the signed root.
  const jwks = await app.request('GET', '/api/v1/issuer/jwks.json');
  const { payload, protectedHeader } = await compactVerify(
    checkpoint.jws,
    createLocalJWKSet(typeof jwks.body === 'string' || !jwks.body ? JSON.parse(jwks.text) : jwks.body),
  );
  t.is(protectedHeader.typ, 'rf-audit-checkpoint+jws');
  const signed = JSON.parse(Buffer.from(payload).toString('utf8'));
  t.like(signed, { root: checkpoint.root, tree_size: proof.body.tree_size });
  const leaf = { chain: proof.body.chain, seq: proof.body.head.chain_seq, hash: proof.body.head.hash };
  t.true(verifyInclusion(leaf, proof.body.leaf_index, proof.body.tree_size, proof.body.proof, signed.root));
  // The head signed is the person's newest row at the time: what their chain holds at that place.
  const row = await app.service.deps.db('audit_events').where({ chain: leaf.chain, chain_seq: leaf.seq }).first('hash');
  t.is(row.hash, leaf.hash);
  t.false(JSON.stringify(proof.body).includes(operator.user_id), "another person's chain is not named");
});

test.serial('two instances’ jobs at once write one checkpoint for an interval, each new one linked to the one before', async (t) => {
  const { db } = app.service.deps;
  const person = await register(app);
  t.is((await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: { updated_fields: { bio: 'x' } } })).status, 200);
  const key = app.service.deps.issuerKeys.active[0];
  const signer = { issuer: app.config.baseUrl, key };
  // A new interval of one second, then both at once: one writes, the other skips.
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
  const before = Number((await db('audit_checkpoints').count({ n: '*' }))[0].n);
  const results = await Promise.all([1, 2, 3].map(() => writeCheckpoint(db, signer, { intervalSeconds: 1, keepLeaves: 2 })));
  t.is(results.filter(Boolean).length, 1);
  t.is(Number((await db('audit_checkpoints').count({ n: '*' }))[0].n), before + 1);
  // Nothing grew since: the next interval gets no checkpoint.
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
  t.is(await writeCheckpoint(db, signer, { intervalSeconds: 1, keepLeaves: 2 }), null);
  // Something grew: a new one, linked to the last; the leaves of all but the newest two are dropped.
  t.is((await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: { updated_fields: { bio: 'y' } } })).status, 200);
  const next = await writeCheckpoint(db, signer, { intervalSeconds: 1, keepLeaves: 2 });
  t.truthy(next);
  t.truthy(next!.prev);
  const kept = (await db('audit_checkpoints').whereNotNull('leaves').count({ n: '*' }))[0].n;
  t.is(Number(kept), 2);
});
