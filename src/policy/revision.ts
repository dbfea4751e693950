/**
 * The policy revision in force is a fact in the database, not a property of whichever process answers. Each
 * process loads policies/ once (src/policy/load.ts) and records its revision at start; the newest row of
 * policy_activations is the revision every instance must answer with:
 *
 * - a revision never seen before comes into force when the first instance starts with it (a deploy);
 * - an instance whose revision is the one in force answers;
 * - an instance whose revision is not (an old instance during a rolling change, or an old one restarted after it)
 *   reads its policy files again and, if they are now the revision in force, switches to them without a restart;
 *   otherwise it makes no decision at all (its engine refuses, the HTTP layer answers 503 policy_outdated with
 *   Retry-After, and /readyz fails so a load balancer stops sending it requests) until it has the revision;
 * - bringing an older revision back is an operator's act (`npm run policy -- activate`), never a side effect of
 *   an old instance restarting, so a rolling change cannot flap between two revisions.
 *
 * Every instance hears of a new revision through the `policy` change notice, or within the poll (src/store/changes.ts).
 * Why refuse rather than serve both during a rollout: the same token must never read different fields on two
 * instances, and between "the new files" and "the old ones" only one is in force.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { PolicyOutdated } from '../errors.ts';
import { notifyChange } from '../store/changes.ts';
import { type Queryable, withTransaction } from '../store/db.ts';
import type { PolicyEngine } from './engine.ts';
import type { Policies } from './load.ts';

const LOCK = 0x504f4c49; // "POLI": one writer of policy_activations at a time
/** How long a refused client is told to wait: the instance it reaches next is current, or this one is by then. */
const RETRY_AFTER_SECONDS = 5;

interface Activation {
  generation: number;
  revision: string;
  origin: string;
  activated_by: string;
  activated_at: Date;
}

/** This process, as policy_activations names who brought a revision into force. */
export const INSTANCE = `${hostname()}:${process.pid}`;

/** The revision in force: the newest activation. */
export async function policyInForce(db: Queryable): Promise<Activation | undefined> {
  const row = (await db('policy_activations').orderBy('generation', 'desc').first()) as Activation | undefined;
  return row ? { ...row, generation: Number(row.generation) } : undefined;
}

/**
 * Records `policies` at an instance's start: in force if it is the revision in force or one never seen before (then
 * it comes into force now, and every instance is told); `outdated` if it was in force once and another came after.
 */
export async function recordPolicyRevision(db: Queryable, policies: Policies, by = INSTANCE): Promise<{ outdated: boolean; inForce: string }> {
  return withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [LOCK]);
    const current = await policyInForce(trx);
    if (current?.revision === policies.revision) return { outdated: false, inForce: current.revision };
    const seen = await trx('policy_activations').where({ revision: policies.revision }).first('generation');
    if (current && seen) return { outdated: true, inForce: current.revision };
    await trx('policy_activations').insert({ revision: policies.revision, origin: policies.origin, activated_by: by });
    await notifyChange(trx, 'policy');
    return { outdated: false, inForce: policies.revision };
  });
}

/** Brings `policies` into force whatever came before (an operator's rollback); false when it already is. */
export async function activatePolicyRevision(db: Queryable, policies: Policies, by: string): Promise<boolean> {
  return withTransaction(db, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [LOCK]);
    if ((await policyInForce(trx))?.revision === policies.revision) return false;
    await trx('policy_activations').insert({ revision: policies.revision, origin: policies.origin, activated_by: by });
    await notifyChange(trx, 'policy');
    return true;
  });
}

export interface PolicyFollowerOptions {
  db: Queryable;
  engine: PolicyEngine;
  /** Reads this instance's policy files again (they may have changed on its disk since start). */
  readFiles: () => Policies;
  logger: Logger;
  /** After the engine switched to another revision (the provider's scopes follow it). */
  onReload?: (policies: Policies) => void;
}

/** Keeps one instance's engine on the revision in force: `refresh` on every `policy` notice and poll. */
export class PolicyFollower {
  readonly #o: PolicyFollowerOptions;
  #outdatedFrom: string | undefined;

  constructor(options: PolicyFollowerOptions) {
    this.#o = options;
  }

  /** The revision in force that this instance does not have, while it does not. */
  get outdatedBy(): string | undefined {
    return this.#outdatedFrom;
  }

  /** Reads the revision in force; switches to it from the files, or refuses every decision until it can. */
  async refresh(): Promise<void> {
    const { engine, logger } = this.#o;
    const current = await policyInForce(this.#o.db);
    if (!current || current.revision === engine.revision) {
      if (this.#outdatedFrom) logger.info({ revision: engine.revision }, 'the policy revision of this instance is in force again');
      this.#outdatedFrom = undefined;
      engine.resume();
      return;
    }
    // Refused first: reading and compiling the files takes a while, and no decision is made under the old revision
    // meanwhile.
    const mine = engine.revision;
    engine.refuse(
      () =>
        new PolicyOutdated(
          `this instance has policy revision ${mine.slice(0, 12)}, but ${current.revision.slice(0, 12)} is in force: it is being replaced; retry shortly`,
          { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
        ),
    );
    let files: Policies | undefined;
    try {
      files = this.#o.readFiles();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'reading the policy files again failed');
    }
    if (files?.revision === current.revision) {
      engine.reload(files);
      this.#outdatedFrom = undefined;
      logger.info({ revision: files.revision, origin: files.origin }, 'switched to the policy revision in force, read from the files');
      this.#o.onReload?.(files);
      return;
    }
    if (this.#outdatedFrom !== current.revision) {
      logger.warn(
        { revision: mine, in_force: current.revision, activated_by: current.activated_by },
        'this instance has an outdated policy revision: it answers 503 until its policy files are the revision in force',
      );
    }
    this.#outdatedFrom = current.revision;
  }
}
