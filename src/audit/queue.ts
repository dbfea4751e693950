/**
 * Group commit for audit events that stand alone (a service reading data), not inside a larger change.
 *
 * Every caller still waits until its own event is committed: a disclosure is on record before the data leaves, and
 * a failed write fails the request instead of releasing unrecorded data. What changes is that events arriving
 * while a batch is being written share the next one — one statement, its own transaction, whatever the batch's
 * size: the admission check, the chains' locks and the append (rf_audit_append, migrations/032_audit_chains.ts) —
 * instead of each request taking its chain's lock in turn. Each person has a chain of their own, so batches of
 * different people may be written at once (up to `maxWriters`): a person's events wait only for the batch in flight
 * that holds their chain, in the order they came. Nothing waits on a timer: a batch starts as soon as its chains
 * are free, so an idle service writes each event at once and a busy one writes many per statement. Nothing is held
 * only in memory past a response, so a clean shutdown (which lets in-flight requests finish) loses no row;
 * `flush()` waits for whatever is queued.
 *
 * The trade-off, chosen on purpose: a read's answer waits for the batch it joined (on a busy server a round trip or
 * two), where a write-behind log would answer at once but could lose the last disclosures in a crash, and could
 * not refuse a read whose basis was revoked while it ran (src/disclosure/admission.repo.ts, admitReleases).
 */
import type { Db, RunStatement } from '../store/db.ts';
import { runStatement } from '../store/db.ts';
import { appendAuditEvents, auditEventTexts, SYSTEM_CHAIN, type AuditInput } from './audit.ts';

export interface AuditQueueOptions {
  /** Most events written in one statement. */
  maxBatch?: number;
  /**
   * Writes a batch in one statement instead of appending it as it is: the statement decides which events may still
   * be recorded, locks what must not change until they are, and appends those by calling
   * `rf_audit_append(<admitted events>)` on `events` (auditEventTexts of the batch: the events as the function takes
   * them, in order) after every row it locks — writers of the chain lock their rows before the chain, the one order
   * that cannot deadlock. Answers, per event, undefined (recorded) or the error its request then fails with.
   */
  admit?: (run: RunStatement, inputs: readonly AuditInput[], events: readonly string[]) => Promise<(Error | undefined)[]>;
  /**
   * Batches written at once, of disjoint chains (default 1: AUDIT_WRITERS): one person's events wait for their
   * chain's batch in flight, other people's need not (each chain has its own lock: migrations/032_audit_chains.ts).
   * More writers make smaller batches, so more statements: worth it where commits wait on the disk, not the CPU.
   */
  maxWriters?: number;
}

interface Pending {
  input: AuditInput;
  /** The chain the event goes to (src/audit/audit.ts: the subject's, or the system chain). */
  chain: string;
  resolve(): void;
  reject(err: unknown): void;
}

export class AuditQueue {
  readonly #db: Db;
  readonly #maxBatch: number;
  readonly #maxWriters: number;
  readonly #admit: AuditQueueOptions['admit'];
  #pending: Pending[] = [];
  /** The writers running: each drains batch after batch of events whose chains no other writer holds. */
  readonly #writers = new Set<Promise<void>>();
  /** The chains a writer's batch holds, while it is written. */
  readonly #busy = new Set<string>();

  constructor(db: Db, options: AuditQueueOptions = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#maxWriters = options.maxWriters ?? 1;
    this.#admit = options.admit;
  }

  /** Appends an event; resolves once it is committed, rejects when it could not be. */
  record(input: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ input, chain: input.subject ?? SYSTEM_CHAIN, resolve, reject });
      this.#startWriter();
    });
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.#writers.size > 0) await Promise.all(this.#writers);
  }

  /** Another writer, when there is room for one and an event no writer's batch holds the chain of. */
  #startWriter(): void {
    if (this.#writers.size >= this.#maxWriters || !this.#pending.some((p) => !this.#busy.has(p.chain))) return;
    const writer = this.#drain().finally(() => {
      this.#writers.delete(writer);
      // Synchronously after the writer's last look at the queue: what is left starts the next one.
      if (this.#pending.length > 0) this.#startWriter();
    });
    this.#writers.add(writer);
  }

  /** The next batch: the oldest events, up to maxBatch, of chains no other writer holds (held by this one from now). */
  #take(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.#pending) {
      if (batch.length < this.#maxBatch && !this.#busy.has(p.chain)) batch.push(p);
      else rest.push(p);
    }
    // A chain's events go to one batch at a time, in the order they came: none overtakes another of its chain.
    for (const p of batch) this.#busy.add(p.chain);
    this.#pending = rest;
    return batch;
  }

  /** Writes a batch in one statement (its own transaction); settles every event's promise once it committed (or failed). */
  async #write(batch: readonly Pending[]): Promise<void> {
    // One round trip whatever the batch's size, sent straight to the driver: this runs for every read of the data API.
    const run: RunStatement = (name, sql, bindings) => runStatement(this.#db, name, sql, bindings);
    const inputs = batch.map((p) => p.input);
    const refusals = this.#admit ? await this.#admit(run, inputs, auditEventTexts(inputs)) : (await appendAuditEvents(run, inputs), []);
    for (const [i, p] of batch.entries()) {
      if (refusals[i]) p.reject(refusals[i]);
      else p.resolve();
    }
  }

  async #drain(): Promise<void> {
    // The requests of this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const batch = this.#take();
      if (batch.length === 0) return;
      try {
        await this.#write(batch);
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        // One bad event must not fail the requests it was batched with: each is tried on its own.
        else for (const p of batch) await this.#write([p]).catch(p.reject);
      } finally {
        for (const p of batch) this.#busy.delete(p.chain);
      }
      // Events of other chains that queued meanwhile may start writers of their own.
      this.#startWriter();
    }
  }
}
