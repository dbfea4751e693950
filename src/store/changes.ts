/**
 * Change notices between instances (PostgreSQL LISTEN/NOTIFY). A write that makes what other instances hold in
 * memory stale — a signing key rotated or activated, a policy revision brought into force — sends
 * `pg_notify('ringfence_changes', <topic>)` in its own transaction, so the notice goes out when, and only if, the
 * write commits. Each instance keeps one connection LISTENing and re-reads what a topic names as soon as a notice
 * arrives. A notice can be lost (the connection dropped, the process paused, PGlite has no second process to tell),
 * so every topic is also re-read every `pollMs` whatever arrived, and once after every reconnection: how stale an
 * instance can be is bounded by the poll, never by luck.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from './db.ts';

const CHANNEL = 'ringfence_changes';
/** How often every topic is re-read with no notice: the bound on how long any instance can miss a change. */
export const CHANGE_POLL_MS = 5_000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** What a notice names: the state to read again. */
/** `outbox`: a message was queued (sent in the enqueueing transaction, so it arrives once the message is visible). */
export type ChangeTopic = 'signing_keys' | 'issuer_keys' | 'policy' | 'outbox';

/** Tells every instance to re-read `topic`; inside a transaction, only once it commits. */
export async function notifyChange(q: Queryable, topic: ChangeTopic): Promise<void> {
  await q.raw('select pg_notify(?, ?)', [CHANNEL, topic]);
}

/** One topic's re-read: never two at once, and a notice during a run makes one more run after it. */
class Refresh {
  readonly #run: () => Promise<void>;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(run: () => Promise<void>) {
    this.#run = run;
  }

  trigger(onError: (err: unknown) => void): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#run();
        } catch (err) {
          onError(err);
        }
      } while (this.#again);
      this.#running = undefined;
    })();
    return this.#running;
  }
}

export interface ChangeFeedOptions {
  /** The PostgreSQL to LISTEN on; without one (PGlite) only the poll runs. */
  connectionString: string | undefined;
  logger: Logger;
  /** CHANGE_POLL_MS unless a test shortens it. */
  pollMs?: number;
}

/** The instance's end of the change notices: re-reads a topic on its notice, every topic on the poll. */
export class ChangeFeed {
  readonly #options: ChangeFeedOptions;
  readonly #topics = new Map<ChangeTopic, Refresh>();
  #client: pg.Client | undefined;
  #poll: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #backoffMs = RECONNECT_MIN_MS;
  #closed = false;
  #notices = 0;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
  }

  /** Re-reads with `refresh` whenever `topic` is noticed or polled. Subscribe before `start`. */
  subscribe(topic: ChangeTopic, refresh: () => Promise<void>): void {
    this.#topics.set(topic, new Refresh(refresh));
  }

  /** Notices received since start, for the tests and the logs. */
  get notices(): number {
    return this.#notices;
  }

  /** Whether the LISTEN connection is up (otherwise only the poll keeps this instance current). */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  async start(): Promise<void> {
    const pollMs = this.#options.pollMs ?? CHANGE_POLL_MS;
    this.#poll = setInterval(() => void this.refreshAll(), pollMs);
    this.#poll.unref();
    if (this.#options.connectionString) await this.#connect();
  }

  /** Re-reads every topic now; resolves when each has. */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.#topics.keys()].map((topic) => this.#refresh(topic)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#reconnect);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #refresh(topic: ChangeTopic): Promise<void> {
    const refresh = this.#topics.get(topic);
    if (!refresh) return Promise.resolve();
    return refresh.trigger((err) => this.#options.logger.warn({ err: (err as Error).message, topic }, 'reading a changed state again failed'));
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.connectionString, application_name: 'ringfence-changes' });
    const lost = (err?: Error) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end().catch(() => {});
      if (this.#closed) return;
      this.#options.logger.warn({ err: err?.message }, 'the change-notice connection was lost; polling until it is back');
      this.#scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL) return;
      this.#notices++;
      if (this.#topics.has(msg.payload as ChangeTopic)) void this.#refresh(msg.payload as ChangeTopic);
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (err) {
      client.end().catch(() => {});
      if (this.#closed) return;
      this.#options.logger.warn({ err: (err as Error).message }, 'could not listen for change notices; polling until it can');
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#backoffMs = RECONNECT_MIN_MS;
    // Whatever changed while no connection listened was never noticed here: read it all again.
    void this.refreshAll();
  }

  #scheduleReconnect(): void {
    clearTimeout(this.#reconnect);
    this.#reconnect = setTimeout(() => void this.#connect(), this.#backoffMs);
    this.#reconnect.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, RECONNECT_MAX_MS);
  }
}
