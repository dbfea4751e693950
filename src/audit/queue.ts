/**
 * Group commit for audit events that stand alone (a service reading data), not inside a larger change.
 *
 * Every caller still waits until its own event is committed: a disclosure is on record before the data leaves, and
 * a failed write fails the request instead of releasing unrecorded data. What changes is that events arriving
 * while one batch is being written share the next one — one statement, its own transaction, whatever the batch's
 * size: the admission check, the chain's lock and the append (rf_audit_append, migrations/009_audit_append.ts) —
 * instead of each request taking the chain's lock in turn (before, every read of the data API waited for that lock
 * behind every other). Nothing waits on a timer: a batch starts as soon as the previous one commits, so an idle
 * service writes each event at once and a busy one writes many per statement. Nothing is held only in memory past
 * a response, so a clean shutdown (which lets in-flight requests finish) loses no row; `flush()` waits for whatever
 * is queued.
 *
 * The trade-off, chosen on purpose: a read's answer waits for the batch it joined (on a busy server a round trip or
 * two), where a write-behind log would answer at once but could lose the last disclosures in a crash, and could
 * not refuse a read whose basis was revoked while it ran (src/disclosure/admission.repo.ts, admitReleases).
 */
import type { Db, RunStatement } from '../store/db.ts';
import { runStatement } from '../store/db.ts';
import { appendAuditEvents, auditEventTexts, type AuditInput } from './audit.ts';

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
}

interface Pending {
  input: AuditInput;
  resolve(): void;
  reject(err: unknown): void;
}

export class AuditQueue {
  readonly #db: Db;
  readonly #maxBatch: number;
  readonly #admit: AuditQueueOptions['admit'];
  #pending: Pending[] = [];
  /** The one writer, while it runs: it drains the queue batch after batch. */
  #writing: Promise<void> | undefined;

  constructor(db: Db, options: AuditQueueOptions = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#admit = options.admit;
  }

  /** Appends an event; resolves once it is committed, rejects when it could not be. */
  record(input: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ input, resolve, reject });
      this.#writing ??= this.#drain();
    });
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
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
    try {
      // The requests of this turn of the event loop join the first batch.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#maxBatch);
        try {
          await this.#write(batch);
        } catch (err) {
          if (batch.length === 1) {
            batch[0].reject(err);
            continue;
          }
          // One bad event must not fail the requests it was batched with: each is tried on its own.
          for (const p of batch) await this.#write([p]).catch(p.reject);
        }
      }
    } finally {
      // Synchronously after the last look at the queue: an event queued from now on starts the next writer.
      this.#writing = undefined;
    }
  }
}
