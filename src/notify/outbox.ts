/**
 * The outbox: messages are written in the same transaction as the change that causes them, then delivered by a
 * worker with retries and exponential backoff. Payloads are sealed at rest (mail carries one-time codes and
 * reset links), and the recipient is kept beside them only as a keyed hash; logs name only the recipient and
 * subject. Delivered and abandoned messages are purged after a retention period. Two kinds: mail, and the
 * back-channel logout a service is sent when a person revokes its access (OpenID Connect Back-Channel Logout).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Transporter } from 'nodemailer';
import type { Knex } from 'knex';
import type { Db, Queryable } from '../store/db.ts';
import { notifyChange } from '../store/changes.ts';
import { open, seal, type Keyring } from '../crypto/envelope.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** A back-channel logout owed to a service: the token is signed by the provider when it is sent. */
export interface BackchannelLogout {
  clientId: string;
  sub: string;
  sid: string;
}

export const BACKCHANNEL_LOGOUT = 'backchannel_logout';
const WEBHOOK = 'webhook';
const WEBHOOK_FAN_OUT = 'webhook_fanout';

/** A webhook the outbox queues: the event itself is its webhook_deliveries row (src/notify/webhooks.ts). */
export interface QueuedWebhook {
  deliveryId: string;
  clientId: string;
  type: string;
}

/**
 * Delivers one webhook (src/notify/webhooks.ts): `'sent'` when the service accepted it, `'gone'` when it is not to
 * be sent again (the endpoint is disabled or gone, or the receiver refused it for good); rejects to be retried. `failed` records a failed attempt, or that
 * the outbox gave up.
 */
export interface WebhookSender {
  /**
   * Writes the deliveries of a fan-out row (its events as enqueued, or those its job expands into now) and ends the
   * row, in one transaction; how many deliveries it wrote.
   */
  expand(outboxId: string, payload: unknown, claim: string | null): Promise<number>;
  /**
   * One attempt; `leaseLost` aborts it when the worker no longer holds the message (another may be sending it now),
   * and such an abort is not counted against the endpoint.
   */
  send(deliveryId: string, attempt: number, leaseLost?: AbortSignal): Promise<'sent' | 'gone'>;
  failed(deliveryId: string, error: string, gaveUp: boolean): Promise<void>;
}

/**
 * Sends one back-channel logout (src/oidc/backchannel.ts): resolves `'sent'` when the service accepted it, `'gone'`
 * when there is nobody left to tell (the service was disabled or dropped its URI since); rejects to be retried.
 */
export type BackchannelLogoutSender = (logout: BackchannelLogout) => Promise<'sent' | 'gone'>;

interface OutboxRow {
  id: string;
  kind: string;
  idempotency_key: string;
  payload: Uint8Array;
  recipient_hint: string;
  subject: string;
  state: string;
  attempts: number;
  /** The token of this worker's claim: every completion of the row is fenced by it. */
  claim: string;
}

const MAX_ATTEMPTS = 8;
/** Messages one worker delivers at once unless `concurrency` says otherwise. */
const BATCH = 20;
/** How often a worker purges old messages (each pass checks whether one is due). */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Delay before attempt `attempts + 1`: 2 s, 4 s, 8 s … capped at 10 minutes. */
export function backoffSeconds(attempts: number): number {
  return Math.min(600, 2 ** Math.max(1, attempts));
}

export class Outbox {
  readonly #key: Buffer;
  readonly #hintKey: Buffer;
  #onEnqueue: (() => void) | undefined;

  constructor(keyring: Keyring) {
    this.#key = keyring.derive('outbox');
    this.#hintKey = keyring.derive('outbox-recipient');
  }

  /**
   * What `recipient_hint` holds for an address: an HMAC under a key derived from the master key, so an operator with
   * the key can still ask "was this address mailed?", and the table alone names no one.
   */
  recipientHint(address: string): string {
    return `hmac:${createHmac('sha256', this.#hintKey).update(address.trim().toLowerCase()).digest('hex')}`;
  }

  /** Called after a message is enqueued (once its transaction commits), so a worker can deliver it without waiting for its next poll. */
  onEnqueue(listener: () => void): void {
    this.#onEnqueue = listener;
  }

  /**
   * Wakes the workers for what `q` just queued, once it can be seen: every instance by a NOTIFY (PostgreSQL
   * delivers one sent inside a transaction only when it commits, and never when it rolls back), and this process's
   * worker when the transaction commits (at once outside one) — a pass woken earlier could not see the message.
   */
  async #queued(q: Queryable): Promise<void> {
    await notifyChange(q, 'outbox');
    const wake = () => this.#onEnqueue?.();
    if ((q as Knex.Transaction).isTransaction) (q as Knex.Transaction).executionPromise.then(wake, () => undefined);
    else queueMicrotask(wake);
  }

  /**
   * Enqueues a mail inside `q` (the caller's transaction). The idempotency key makes a retried request enqueue
   * the message once: a second enqueue with the same key is ignored.
   */
  async enqueueMail(q: Queryable, message: MailMessage, idempotencyKey: string = randomUUID()): Promise<void> {
    const id = randomUUID();
    await q('outbox')
      .insert({
        id,
        kind: 'mail',
        idempotency_key: idempotencyKey,
        payload: seal(this.#key, JSON.stringify(message), `outbox:${idempotencyKey}`),
        recipient_hint: this.recipientHint(message.to),
        subject: message.subject,
      })
      .onConflict('idempotency_key')
      .ignore();
    await this.#queued(q);
  }

  /**
   * Enqueues a back-channel logout inside `q`, the transaction that revokes the service's access: the revocation
   * answers without waiting for the service, and the service is told even if it is down for a while.
   */
  async enqueueBackchannelLogout(q: Queryable, logout: BackchannelLogout, idempotencyKey: string = randomUUID()): Promise<void> {
    await q('outbox')
      .insert({
        id: randomUUID(),
        kind: BACKCHANNEL_LOGOUT,
        idempotency_key: idempotencyKey,
        payload: seal(this.#key, JSON.stringify(logout), `outbox:${idempotencyKey}`),
        recipient_hint: `service:${logout.clientId}`,
        subject: 'back-channel logout',
      })
      .onConflict('idempotency_key')
      .ignore();
    await this.#queued(q);
  }

  /**
   * Queues webhooks inside `q`, the transaction of the change they tell of (one statement for all of them); the
   * delivery id is the idempotency key, so a delivery is queued once.
   */
  async enqueueWebhooks(q: Queryable, webhooks: readonly QueuedWebhook[]): Promise<void> {
    if (webhooks.length === 0) return;
    const rows = webhooks.map((w) => this.#webhookRow(w));
    // One statement for any number (arrays unnested; the sealed payloads as base64 text, decoded in SQL).
    await q.raw(
      `insert into outbox (id, kind, idempotency_key, payload, recipient_hint, subject)
       select id, kind, idempotency_key, decode(payload, 'base64'), recipient_hint, subject
         from unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) as r(id, kind, idempotency_key, payload, recipient_hint, subject)
       on conflict (idempotency_key) do nothing`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.kind),
        rows.map((r) => r.idempotency_key),
        rows.map((r) => r.payload.toString('base64')),
        rows.map((r) => r.recipient_hint),
        rows.map((r) => r.subject),
      ],
    );
    await this.#queued(q);
  }

  /**
   * Queues the events of one change to many services as one row — the events themselves, or a job the worker decides
   * them from — which the worker expands (WebhookSender.expand). `hint` says what it is about (never a value).
   */
  async enqueueWebhookFanOut(q: Queryable, payload: unknown, hint: string): Promise<void> {
    const idempotencyKey = `webhook-fanout:${randomUUID()}`;
    await q('outbox').insert({
      id: randomUUID(),
      kind: WEBHOOK_FAN_OUT,
      idempotency_key: idempotencyKey,
      payload: seal(this.#key, JSON.stringify(payload), `outbox:${idempotencyKey}`),
      recipient_hint: hint,
      subject: 'webhook fan-out',
    });
    await this.#queued(q);
  }

  openWebhookFanOut(row: Pick<OutboxRow, 'payload' | 'idempotency_key'>): unknown {
    return JSON.parse(open(this.#key, Buffer.from(row.payload), `outbox:${row.idempotency_key}`).toString('utf8'));
  }

  /** Queues a webhook again for a fresh run of attempts (an operator's replay), whether or not its row was purged. */
  async requeueWebhook(q: Queryable, webhook: QueuedWebhook): Promise<void> {
    await q('outbox')
      .insert(this.#webhookRow(webhook))
      .onConflict('idempotency_key')
      .merge({ state: 'pending', attempts: 0, next_attempt_at: q.fn.now(), last_error: null, delivered_at: null });
    await this.#queued(q);
  }

  #webhookRow(w: QueuedWebhook) {
    const idempotencyKey = `webhook:${w.deliveryId}`;
    return {
      id: randomUUID(),
      kind: WEBHOOK,
      idempotency_key: idempotencyKey,
      payload: seal(this.#key, JSON.stringify(w), `outbox:${idempotencyKey}`),
      recipient_hint: `service:${w.clientId}`,
      subject: w.type,
    };
  }

  openWebhook(row: Pick<OutboxRow, 'payload' | 'idempotency_key'>): QueuedWebhook {
    return JSON.parse(open(this.#key, Buffer.from(row.payload), `outbox:${row.idempotency_key}`).toString('utf8'));
  }

  openBackchannelLogout(row: Pick<OutboxRow, 'payload' | 'idempotency_key'>): BackchannelLogout {
    return JSON.parse(open(this.#key, Buffer.from(row.payload), `outbox:${row.idempotency_key}`).toString('utf8'));
  }

  openPayload(row: Pick<OutboxRow, 'payload' | 'idempotency_key'>): MailMessage {
    return JSON.parse(open(this.#key, Buffer.from(row.payload), `outbox:${row.idempotency_key}`).toString('utf8'));
  }

  /**
   * Replaces the addresses that rows written before hints were keyed still hold in clear (a hint with an `@`).
   * Returns how many were rewritten.
   */
  async rekeyLegacyHints(q: Queryable): Promise<number> {
    const rows = (await q('outbox').where('recipient_hint', 'like', '%@%').select('id', 'recipient_hint')) as Pick<
      OutboxRow,
      'id' | 'recipient_hint'
    >[];
    for (const row of rows)
      await q('outbox')
        .where({ id: row.id })
        .update({ recipient_hint: this.recipientHint(row.recipient_hint) });
    return rows.length;
  }

  /**
   * Deletes messages delivered more than `retentionDays` ago, and those given up on (failed) that long after they
   * were written: the outbox is a queue, not an archive of who was mailed. Held and pending ones stay, and so does a
   * webhook fan-out given up on: it is a change no service was told of, kept until an operator queues it again
   * (`npm run services -- deliveries replay --all-failed`).
   */
  async purge(q: Queryable, retentionDays: number): Promise<number> {
    const cutoff = new Date(Date.now() - retentionDays * 24 * 60 * 60 * 1000);
    return q('outbox')
      .where((w) => w.where({ state: 'sent' }).andWhere('delivered_at', '<', cutoff))
      .orWhere((w) => w.where({ state: 'failed' }).andWhere('created_at', '<', cutoff).andWhereNot({ kind: WEBHOOK_FAN_OUT }))
      .delete();
  }
}

/** A webhook fan-out given up on: a profile change whose deliveries were never written, so no service was told. */
export interface FailedFanOut {
  fanout_id: string;
  created_at: string;
  attempts: number;
  last_error: string | null;
}

/** The webhook fan-outs given up on, oldest first (at most `limit`). */
export async function listFailedFanOuts(q: Queryable, limit = 100): Promise<FailedFanOut[]> {
  const rows = (await q('outbox')
    .where({ kind: WEBHOOK_FAN_OUT, state: 'failed' })
    .orderBy('created_at')
    .limit(limit)
    .select('id', 'created_at', 'attempts', 'last_error')) as { id: string; created_at: Date; attempts: number; last_error: string | null }[];
  return rows.map((r) => ({ fanout_id: r.id, created_at: new Date(r.created_at).toISOString(), attempts: r.attempts, last_error: r.last_error }));
}

/**
 * Queues given-up webhook fan-outs again (all, or those of `ids`), with a fresh run of attempts: the worker expands
 * them into their deliveries as it would have (each delivery written once, whatever ran before). Their ids.
 */
export async function requeueFailedFanOuts(q: Queryable, ids?: readonly string[]): Promise<string[]> {
  const query = q('outbox').where({ kind: WEBHOOK_FAN_OUT, state: 'failed' });
  if (ids) query.whereIn('id', ids);
  const rows = (await query
    .update({ state: 'pending', attempts: 0, next_attempt_at: q.fn.now(), last_error: null, claim: null, claimed_at: null })
    .returning('id')) as { id: string }[];
  if (rows.length > 0) await notifyChange(q, 'outbox');
  return rows.map((r) => r.id);
}

export interface WorkerOptions {
  db: Db;
  outbox: Outbox;
  logger: Logger;
  /** Without a transport, mail is held in the outbox and logged (recipient and subject only). */
  transport: Transporter | undefined;
  from: string;
  pollMs?: number;
  /**
   * How long a claim on a message lasts unless renewed: the worker renews it every third of it while the delivery
   * runs, and a crashed worker's messages are taken over once it ends. Delivery timeouts are shorter (mailer.ts).
   */
  leaseSeconds?: number;
  /** Messages one worker delivers at once (a freed slot is claimed again at once while more is due); 20 when absent. */
  concurrency?: number;
  /** Sends back-channel logouts; without it they wait in the outbox. */
  backchannelLogout?: BackchannelLogoutSender;
  /** Days a delivered (or failed) message is kept before it is purged; 7 when absent. */
  retentionDays?: number;
  /** Sends webhooks (src/notify/webhooks.ts); without it they wait in the outbox. */
  webhook?: WebhookSender;
}

/**
 * Delivers the outbox, safely beside any number of other workers on the same database (other instances, or more
 * in this one). A message is claimed per row (`for update skip locked`) under a fresh claim token and a lease: it
 * stays `pending`, due again only when the lease ends (`next_attempt_at`), and the worker renews the lease every
 * third of it while the delivery runs. Every completion (sent, retry, gone, given up, held) is fenced by the claim
 * (`where id = ? and claim = ?`), so a worker whose lease ran out and was taken over writes nothing. A crashed
 * worker renews nothing: its messages come due once their lease ends and another worker delivers them (at most once
 * more: the receiver drops a redelivery by Message-ID or webhook-id). Up to `concurrency` deliveries run at once, and
 * a slot freed by one is claimed again at once while there is a backlog.
 */
export class OutboxWorker {
  readonly #o: Required<Omit<WorkerOptions, 'transport' | 'backchannelLogout' | 'webhook'>> &
    Pick<WorkerOptions, 'transport' | 'backchannelLogout' | 'webhook'>;
  #timer: NodeJS.Timeout | undefined;
  /** The running claim of the scheduled loop (never two at once). */
  #claiming: Promise<void> | undefined;
  /** A wake arrived while a claim ran or every slot was taken: claim again as soon as it can. */
  #again = false;
  #stopped = true;
  #lastPurge = 0;
  /** The last claim filled every free slot: more may be due, so each finished delivery claims again at once. */
  #backlog = false;
  /** The messages this worker holds now, each under its claim: what the heartbeat renews. */
  readonly #held = new Map<string, OutboxRow>();
  /** The deliveries the scheduled loop has started and not yet finished (stop waits for them). */
  readonly #inFlight = new Set<Promise<boolean>>();
  #heartbeat: NodeJS.Timeout | undefined;
  #renewing = false;
  /** Completions refused because another worker had taken the message over: logged, counted, never written. */
  #lostFences = 0;
  /** Leases extended by the heartbeat (one per message per renewal). */
  #renewals = 0;
  /** Held messages whose completion is being written: a renewal that misses them has not lost them. */
  readonly #ending = new Set<string>();
  /**
   * Per held message: when its lease ends as far as this worker knows (from the time the claim or the last renewal
   * that kept it was sent), and what aborts its delivery where the delivery can be aborted (a webhook request) once
   * the lease is lost or has run out here.
   */
  readonly #leases = new Map<string, { until: number; lost: AbortController }>();

  constructor(options: WorkerOptions) {
    // `??`, not a spread over defaults: an option passed as undefined (startService's, when none is configured) keeps
    // the default instead of polling every millisecond.
    this.#o = {
      ...options,
      pollMs: options.pollMs ?? 2000,
      leaseSeconds: options.leaseSeconds ?? 60,
      concurrency: options.concurrency ?? BATCH,
      retentionDays: options.retentionDays ?? 7,
    };
    options.outbox.onEnqueue(() => this.wake());
  }

  /** How many completions this worker could not write because its claim had been taken over. */
  get lostFences(): number {
    return this.#lostFences;
  }

  /** How many times the heartbeat extended the lease of a message this worker was delivering. */
  get renewals(): number {
    return this.#renewals;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops claiming, and resolves once every delivery already started has ended (and its result is written). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#claiming;
    await Promise.all([...this.#inFlight]);
  }

  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming || this.#held.size >= this.#o.concurrency) {
      this.#again = true;
      return;
    }
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fill(), ms);
    this.#timer.unref();
  }

  /** One turn of the scheduled loop: claims what the free slots can take and starts delivering it, without waiting. */
  #fill(): void {
    this.#claiming = (async () => {
      // This claim answers every wake so far; one arriving while it runs asks for another.
      this.#again = false;
      const free = this.#o.concurrency - this.#held.size;
      if (free <= 0) {
        this.#again = true;
        return;
      }
      for (const row of await this.#claim(free)) {
        const delivery = this.#deliverHeld(row).finally(() => {
          this.#inFlight.delete(delivery);
          // A freed slot: taken again at once while more is due (or a wake waited for it); else at the next poll.
          if (this.#backlog || this.#again) this.wake();
        });
        this.#inFlight.add(delivery);
      }
    })()
      .catch((err) => this.#o.logger.error({ err }, 'outbox worker pass failed'))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#stopped) return;
        if (this.#again && this.#held.size < this.#o.concurrency) {
          this.#again = false;
          this.#schedule(0);
        } else if (!this.#backlog || this.#held.size === 0) this.#schedule(this.#o.pollMs);
        // else: every slot is busy with more due; the next finished delivery claims again.
      });
  }

  /** Purges old messages when the last purge is older than PURGE_INTERVAL_MS (the first pass always does). */
  async #purgeWhenDue(): Promise<void> {
    if (Date.now() - this.#lastPurge < PURGE_INTERVAL_MS) return;
    this.#lastPurge = Date.now();
    const { db, outbox, logger, retentionDays } = this.#o;
    const rekeyed = await outbox.rekeyLegacyHints(db);
    const purged = await outbox.purge(db, retentionDays);
    if (rekeyed + purged > 0) logger.info({ purged, rekeyed, retention_days: retentionDays }, 'outbox purged of old messages');
  }

  /**
   * Claims up to `limit` due messages, each under a fresh claim token and a lease of `leaseSeconds`, and holds them
   * (the heartbeat renews them from now on). A due message is a pending one whose retry time, or whose previous
   * claim's lease, has passed: that is how a crashed worker's messages are recovered.
   */
  async #claim(limit: number): Promise<OutboxRow[]> {
    if (limit <= 0) return [];
    await this.#purgeWhenDue();
    const { db, leaseSeconds } = this.#o;
    const sentAt = Date.now();
    const claimed = (await db.raw(
      `update outbox o set attempts = o.attempts + 1, claim = gen_random_uuid(), claimed_at = now(),
              next_attempt_at = now() + make_interval(secs => ?)
         from (select id from outbox where state = 'pending' and next_attempt_at <= now()
                order by next_attempt_at limit ? for update skip locked) due
        where o.id = due.id
       returning o.id, o.kind, o.idempotency_key, o.payload, o.recipient_hint, o.subject, o.state, o.attempts, o.claim`,
      [leaseSeconds, limit],
    )) as { rows: OutboxRow[] };
    this.#backlog = claimed.rows.length === limit;
    const until = sentAt + leaseSeconds * 1000;
    for (const row of claimed.rows) {
      this.#held.set(row.id, row);
      this.#leases.set(row.id, { until, lost: new AbortController() });
    }
    if (claimed.rows.length > 0 && !this.#heartbeat) {
      this.#heartbeat = setInterval(() => void this.#renew(), Math.max(50, Math.floor((leaseSeconds * 1000) / 3)));
      this.#heartbeat.unref();
    }
    return claimed.rows;
  }

  /**
   * Delivers a held message and lets it go (the heartbeat stops with the last one). A delivery that throws where it
   * should not (a payload that does not open) is logged; its row comes due again when its lease ends.
   */
  async #deliverHeld(row: OutboxRow): Promise<boolean> {
    try {
      return await this.#deliver(row);
    } catch (err) {
      this.#o.logger.error({ err, outbox_id: row.id, kind: row.kind, attempt: row.attempts }, 'outbox delivery failed unexpectedly');
      return false;
    } finally {
      this.#held.delete(row.id);
      this.#leases.delete(row.id);
      if (this.#held.size === 0 && this.#heartbeat) {
        clearInterval(this.#heartbeat);
        this.#heartbeat = undefined;
      }
    }
  }

  /**
   * Claims what the free slots can take and delivers it, renewing the leases while it does; resolves with how many
   * were delivered once every one of them has ended. What the scheduled loop does in one turn, awaited (tests, tools).
   */
  async runOnce(): Promise<number> {
    const rows = await this.#claim(Math.max(0, this.#o.concurrency - this.#held.size));
    const sent = await Promise.all(rows.map((row) => this.#deliverHeld(row)));
    return sent.filter(Boolean).length;
  }

  /** Extends the leases this worker still holds; a row no longer held under its claim is logged (its completion will be refused). */
  async #renew(): Promise<void> {
    const { db, logger, leaseSeconds } = this.#o;
    // A lease that ran out here with no renewal answered (the database slow or unreachable) may be another worker's now.
    for (const [id, lease] of this.#leases)
      if (Date.now() >= lease.until && !lease.lost.signal.aborted) this.#loseLease(id, 'the outbox lease ran out before it could be renewed');
    const rows = [...this.#held.values()];
    // One renewal at a time: a slow database is not asked again before it has answered.
    if (rows.length === 0 || this.#renewing) return;
    this.#renewing = true;
    const sentAt = Date.now();
    try {
      const renewed = (await db.raw(
        `update outbox o set next_attempt_at = now() + make_interval(secs => ?)
           from unnest(?::uuid[], ?::uuid[]) as h(id, claim)
          where o.id = h.id and o.claim = h.claim and o.state = 'pending'
         returning o.id`,
        [leaseSeconds, rows.map((r) => r.id), rows.map((r) => r.claim)],
      )) as { rows: { id: string }[] };
      this.#renewals += renewed.rows.length;
      const kept = new Set(renewed.rows.map((r) => r.id));
      for (const row of rows) {
        const lease = this.#leases.get(row.id);
        if (kept.has(row.id)) {
          if (lease) lease.until = sentAt + leaseSeconds * 1000;
        } else if (this.#held.get(row.id) === row && !this.#ending.has(row.id)) {
          logger.warn({ outbox_id: row.id, kind: row.kind }, 'outbox lease lost while delivering: another worker may hold it now');
          this.#loseLease(row.id, 'the outbox lease was lost: another worker may hold this message now');
        }
      }
    } catch (err) {
      // Each step of a delivery times out in half a lease (mailer.ts): it fails before another worker could take the
      // message over, unless renewing keeps failing through several slow steps; then the fence still refuses its result.
      logger.warn({ err: (err as Error).message }, 'renewing outbox leases failed');
    } finally {
      this.#renewing = false;
    }
  }

  /** Aborts what of the delivery of `id` can be aborted: this worker may no longer hold it. */
  #loseLease(id: string, why: string): void {
    this.#leases.get(id)?.lost.abort(new Error(why));
  }

  /**
   * Ends this worker's claim on `row` with `fields`, only if it still holds it (`where id and claim`): a worker whose
   * lease was taken over never overwrites the result of the one that holds the row now. False when the claim was lost.
   */
  async #complete(row: OutboxRow, fields: Record<string, unknown>): Promise<boolean> {
    const { db, logger } = this.#o;
    this.#ending.add(row.id);
    let updated: number;
    try {
      updated = await db('outbox')
        .where({ id: row.id, claim: row.claim })
        .update({ ...fields, claim: null });
    } finally {
      // Ended either way: written, or refused because another worker holds the row now.
      this.#ending.delete(row.id);
      this.#held.delete(row.id);
      this.#leases.delete(row.id);
    }
    if (updated === 1) return true;
    this.#lostFences++;
    logger.warn(
      { outbox_id: row.id, kind: row.kind, attempt: row.attempts, state: fields.state },
      'outbox claim lost: another worker took this message over, its result stands',
    );
    return false;
  }

  /** The address for the log line, from the sealed payload (the row keeps only its keyed hash). */
  #recipientOf(row: OutboxRow): string {
    try {
      return this.#o.outbox.openPayload(row).to;
    } catch {
      return row.recipient_hint;
    }
  }

  async #deliver(row: OutboxRow): Promise<boolean> {
    if (row.kind === BACKCHANNEL_LOGOUT) return this.#deliverBackchannelLogout(row);
    if (row.kind === WEBHOOK) return this.#deliverWebhook(row);
    if (row.kind === WEBHOOK_FAN_OUT) return this.#expandWebhooks(row);
    const { db, logger, transport, outbox, from } = this.#o;
    const log = { outbox_id: row.id, to: this.#recipientOf(row), subject: row.subject, attempt: row.attempts };
    if (!transport) {
      await this.#complete(row, { state: 'held' });
      logger.info(log, 'mail held in the outbox (no SMTP_URL configured)');
      return false;
    }
    try {
      const message = outbox.openPayload(row);
      // The idempotency key doubles as the Message-ID, so a receiver can drop a redelivery after a crash.
      await transport.sendMail({ from, ...message, messageId: `<${row.idempotency_key}@ringfence>` });
      if (!(await this.#complete(row, { state: 'sent', delivered_at: db.fn.now(), last_error: null }))) return false;
      logger.info(log, 'mail delivered');
      return true;
    } catch (err) {
      await this.#failed(row, err, log, 'mail delivery failed');
      return false;
    }
  }

  /** A failed attempt: retried later with backoff, or given up on after MAX_ATTEMPTS. */
  async #failed(row: OutboxRow, err: unknown, log: Record<string, unknown>, what: string): Promise<boolean> {
    const { db, logger } = this.#o;
    const failed = row.attempts >= MAX_ATTEMPTS;
    const ended = await this.#complete(row, {
      state: failed ? 'failed' : 'pending',
      last_error: String((err as Error).message).slice(0, 500),
      next_attempt_at: db.raw('now() + make_interval(secs => ?)', [backoffSeconds(row.attempts)]),
    });
    logger.warn({ ...log, err: (err as Error).message, gave_up: failed }, what);
    return ended;
  }

  /** A fan-out row: its deliveries written (and queued) in one transaction with its end; retried like a delivery. */
  async #expandWebhooks(row: OutboxRow): Promise<boolean> {
    const { outbox, webhook, logger } = this.#o;
    const log = { outbox_id: row.id, kind: row.kind, attempt: row.attempts };
    if (!webhook) return false;
    try {
      const written = await webhook.expand(row.id, outbox.openWebhookFanOut(row), row.claim);
      logger.info({ ...log, deliveries: written }, 'webhook fan-out expanded');
      this.wake();
      return true;
    } catch (err) {
      await this.#failed(row, err, log, 'webhook fan-out failed');
      return false;
    }
  }

  /** One webhook: the same `webhook-id` on every attempt; a refusal is retried with backoff, up to MAX_ATTEMPTS. */
  async #deliverWebhook(row: OutboxRow): Promise<boolean> {
    const { db, logger, outbox, webhook } = this.#o;
    const log = { outbox_id: row.id, kind: row.kind, attempt: row.attempts };
    if (!webhook) {
      await this.#complete(row, { state: 'held' });
      logger.warn(log, 'webhook held in the outbox (no sender configured)');
      return false;
    }
    const queued = outbox.openWebhook(row);
    try {
      const outcome = await webhook.send(queued.deliveryId, row.attempts, this.#leases.get(row.id)?.lost.signal);
      if (outcome === 'gone') {
        await this.#complete(row, { state: 'failed', last_error: 'not delivered: dropped or refused (the delivery says why)' });
        logger.info({ ...log, client_id: queued.clientId }, 'webhook not delivered: dropped or refused (the delivery says why)');
        return false;
      }
      if (!(await this.#complete(row, { state: 'sent', delivered_at: db.fn.now(), last_error: null }))) return false;
      logger.info({ ...log, client_id: queued.clientId, type: queued.type }, 'webhook delivered');
      return true;
    } catch (err) {
      // Only the holder of the claim records the attempt: a worker taken over leaves the delivery to the one that holds it.
      if (!(await this.#failed(row, err, { ...log, client_id: queued.clientId }, 'webhook delivery failed'))) return false;
      await webhook.failed(queued.deliveryId, String((err as Error).message), row.attempts >= MAX_ATTEMPTS).catch(() => undefined);
      return false;
    }
  }

  /** One back-channel logout: the provider signs the logout token now and POSTs it; a refusal is retried with backoff. */
  async #deliverBackchannelLogout(row: OutboxRow): Promise<boolean> {
    const { db, logger, outbox, backchannelLogout } = this.#o;
    const log = { outbox_id: row.id, kind: row.kind, attempt: row.attempts };
    if (!backchannelLogout) {
      await this.#complete(row, { state: 'held' });
      logger.warn(log, 'back-channel logout held in the outbox (no sender configured)');
      return false;
    }
    try {
      const logout = outbox.openBackchannelLogout(row);
      const outcome = await backchannelLogout(logout);
      if (outcome === 'gone') {
        await this.#complete(row, { state: 'failed', last_error: 'the service is disabled or has no back-channel logout URI' });
        logger.info({ ...log, client_id: logout.clientId }, 'back-channel logout dropped: the service is gone');
        return false;
      }
      if (!(await this.#complete(row, { state: 'sent', delivered_at: db.fn.now(), last_error: null }))) return false;
      logger.info({ ...log, client_id: logout.clientId }, 'back-channel logout delivered');
      return true;
    } catch (err) {
      await this.#failed(row, err, log, 'back-channel logout delivery failed');
      return false;
    }
  }
}
