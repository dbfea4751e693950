/**
 * Group commit for audit events that stand alone (a service reading data), not inside a larger change.
 *
 * Every caller still waits until its own event is committed: a disclosure is on record before the data leaves, and
 * a failed write fails the request instead of releasing unrecorded data. What changes is that events arriving
 * while one batch is being written share the next transaction — four round trips to the database, the chain's
 * lock taken once, one statement appending them all — instead of each request taking the chain's lock in turn
 * (before, every read of the data API waited for that lock behind every other). Nothing waits on a timer: a batch
 * starts as soon as the previous one commits, so an idle service writes each event at once and a busy one writes
 * many per transaction. Nothing is held only in memory past a response, so a clean shutdown (which lets in-flight
 * requests finish) loses no row; `flush()` waits for whatever is queued.
 *
 * The trade-off, chosen on purpose: a read's answer waits for the batch it joined (on a busy server a few round
 * trips), where a write-behind log would answer at once but could lose the last disclosures in a crash, and could
 * not refuse a read whose grant was revoked while it ran (src/features/access/access.ts admitDisclosures).
 */
import type { Db, RunStatement } from '../store/db.ts';
import { withDirectTransaction } from '../store/db.ts';
import { appendAuditEvents, lockAuditChain, TAKE_CHAIN_LOCK, type AuditInput } from './audit.ts';

export interface AuditQueueOptions {
  /** Most events written in one transaction. */
  maxBatch?: number;
  /**
   * Runs first in each batch's transaction, as one statement that ends by taking the chain's lock (the SQL
   * expression `takeChainLock`, evaluated after every row the statement locks: writers of the chain lock their rows
   * before the chain, the one order that cannot deadlock). Says whether each event may still be recorded
   * (undefined) or must be refused (the error its request then fails with); what it locks and writes commits or
   * rolls back with the batch. Without it, the batch takes the chain's lock in a statement of its own.
   */
  admit?: (run: RunStatement, inputs: readonly AuditInput[], takeChainLock: string) => Promise<(Error | undefined)[]>;
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

  /** Writes a batch in one transaction; settles every event's promise once it committed (or failed). */
  async #write(batch: readonly Pending[]): Promise<void> {
    // Four round trips whatever the batch's size (begin, admit and the chain's lock, append, commit), sent straight
    // to the driver: this runs for every read of the data API.
    const refusals = await withDirectTransaction(this.#db, async (run) => {
      let verdicts: (Error | undefined)[] = [];
      if (this.#admit) verdicts = await this.#admit(run, batch.map((p) => p.input), TAKE_CHAIN_LOCK);
      else await lockAuditChain(run);
      await appendAuditEvents(run, batch.filter((_, i) => !verdicts[i]).map((p) => p.input));
      return verdicts;
    });
    batch.forEach((p, i) => (refusals[i] ? p.reject(refusals[i]) : p.resolve()));
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
