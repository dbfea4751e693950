/**
 * The policy revision in force as a fact in the database (src/policy/revision.ts): recorded at an instance's start,
 * a new revision comes into force, a superseded one never comes back by itself (an old instance restarting), only by
 * an operator's `activate`; an instance that is behind switches to its files when they are the revision in force and
 * refuses every decision (503 policy_outdated, Retry-After) while they are not.
 */
import test from 'ava';
import { pino } from 'pino';
import { mapError } from '../../src/http/error-mapping.ts';
import { PolicyEngine } from '../../src/policy/engine.ts';
import type { Policies } from '../../src/policy/load.ts';
import { activatePolicyRevision, PolicyFollower, policyInForce, recordPolicyRevision } from '../../src/policy/revision.ts';
import { useMigratedStore } from '../helpers/app.ts';
import { policiesWith, policyFiles } from './fixtures.ts';

const store = useMigratedStore();
const files = policyFiles();
const old = policiesWith();
const fresh = policiesWith({ 'roles/government.yaml': files['roles/government.yaml'].replace(/^ {6}- email\n/m, '') });
const reader = { kind: 'service', clientId: 'svc', role: 'government' } as const;
const grant = { scopes: ['openid', 'email'] };

test.serial('a revision comes into force when it is first recorded; a superseded one does not return by itself, only by activate', async (t) => {
  t.not(old.revision, fresh.revision);
  t.deepEqual(await recordPolicyRevision(store.db, old, 'a:1'), { outdated: false, inForce: old.revision });
  t.deepEqual(await recordPolicyRevision(store.db, old, 'b:1'), { outdated: false, inForce: old.revision }, 'a second instance, same files');
  t.deepEqual(await recordPolicyRevision(store.db, fresh, 'a:2'), { outdated: false, inForce: fresh.revision }, 'a deploy');
  // An old instance restarting mid-rollout: behind, and it does not flip the fleet back.
  t.deepEqual(await recordPolicyRevision(store.db, old, 'b:2'), { outdated: true, inForce: fresh.revision });
  t.like(await policyInForce(store.db), { revision: fresh.revision, activated_by: 'a:2', generation: 2 });
  // The operator's rollback.
  t.true(await activatePolicyRevision(store.db, old, 'operator'));
  t.false(await activatePolicyRevision(store.db, old, 'operator'), 'already in force');
  t.like(await policyInForce(store.db), { revision: old.revision, activated_by: 'operator', generation: 3 });
  t.deepEqual(await recordPolicyRevision(store.db, old, 'b:3'), { outdated: false, inForce: old.revision });
  await activatePolicyRevision(store.db, fresh, 'operator');
});

test.serial('an instance behind refuses every decision with 503 policy_outdated until its files are the revision in force', async (t) => {
  const engine = new PolicyEngine(old);
  t.true(engine.decide(reader, undefined, grant).fields.includes('email'));
  let onDisk: Policies = old;
  const reloaded: string[] = [];
  const follower = new PolicyFollower({
    db: store.db,
    engine,
    readFiles: () => onDisk,
    logger: pino({ level: 'silent' }),
    onReload: (p) => reloaded.push(p.revision),
  });
  t.is((await policyInForce(store.db))?.revision, fresh.revision);
  await follower.refresh();
  t.is(follower.outdatedBy, fresh.revision);
  const refusal = t.throws(() => engine.decide(reader, undefined, grant));
  t.like(mapError(refusal, 'r1'), { status: 503, code: 'policy_outdated', headers: { 'Retry-After': '5' } });
  t.regex(
    refusal!.message,
    new RegExp(`this instance has policy revision ${old.revision.slice(0, 12)}, but ${fresh.revision.slice(0, 12)} is in force`),
  );
  t.like(mapError(engine.refusal(), 'r2'), { status: 503, code: 'policy_outdated' });

  // The files on its disk are now the revision in force: it switches to them, no restart.
  onDisk = fresh;
  await follower.refresh();
  t.is(engine.revision, fresh.revision);
  t.is(engine.refusal(), undefined);
  t.deepEqual(reloaded, [fresh.revision]);
  t.false(engine.decide(reader, undefined, grant).fields.includes('email'), 'and decides by them');

  // Rolled back by the operator: files that are not the revision in force again, so it refuses again.
  await activatePolicyRevision(store.db, old, 'operator');
  await follower.refresh();
  t.throws(() => engine.decide(reader, undefined, grant), { message: /is in force: it is being replaced/ });
  onDisk = old;
  await follower.refresh();
  t.is(engine.revision, old.revision);
  t.true(engine.decide(reader, undefined, grant).fields.includes('email'));
});
