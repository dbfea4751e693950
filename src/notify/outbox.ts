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
import type { Db, Queryable } from '../store/db.ts';
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
 * be sent (the endpoint is disabled or gone); rejects to be retried. `failed` records a failed attempt, or that
 * the outbox gave up.
 */
export interface WebhookSender {
  /**
   * Writes the deliveries of a fan-out row (its events as enqueued, or those its job expands into now) and ends the
   * row, in one transaction; how many deliveries it wrote.
   */
  expand(outboxId: string, payload: unknown): Promise<number>;
  send(deliveryId: string, attempt: number): Promise<'sent' | 'gone'>;
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
}

const MAX_ATTEMPTS = 8;
/** Messages one pass claims. */
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

  /** Called after a message is enqueued, so a worker can deliver it without waiting for its next poll. */
  onEnqueue(listener: () => void): void {
    this.#onEnqueue = listener;
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
    queueMicrotask(() => this.#onEnqueue?.());
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
    queueMicrotask(() => this.#onEnqueue?.());
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
    queueMicrotask(() => this.#onEnqueue?.());
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
    queueMicrotask(() => this.#onEnqueue?.());
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
    queueMicrotask(() => this.#onEnqueue?.());
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
   * were written: the outbox is a queue, not an archive of who was mailed. Held and pending ones stay.
   */
  async purge(q: Queryable, retentionDays: number): Promise<number> {
    const cutoff = new Date(Date.now() - retentionDays * 24 * 60 * 60 * 1000);
    return q('outbox')
      .where((w) => w.where({ state: 'sent' }).andWhere('delivered_at', '<', cutoff))
      .orWhere((w) => w.where({ state: 'failed' }).andWhere('created_at', '<', cutoff))
      .delete();
  }
}

export interface WorkerOptions {
  db: Db;
  outbox: Outbox;
  logger: Logger;
  /** Without a transport, mail is held in the outbox and logged (recipient and subject only). */
  transport: Transporter | undefined;
  from: string;
  pollMs?: number;
  /** How long a claimed message stays invisible to other workers while it is being delivered. */
  leaseSeconds?: number;
  /** Sends back-channel logouts; without it they wait in the outbox. */
  backchannelLogout?: BackchannelLogoutSender;
  /** Days a delivered (or failed) message is kept before it is purged; 7 when absent. */
  retentionDays?: number;
  /** Sends webhooks (src/notify/webhooks.ts); without it they wait in the outbox. */
  webhook?: WebhookSender;
}

export class OutboxWorker {
  readonly #o: Required<Omit<WorkerOptions, 'transport' | 'backchannelLogout' | 'webhook'>> &
    Pick<WorkerOptions, 'transport' | 'backchannelLogout' | 'webhook'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #lastPurge = 0;
  /** The last pass claimed a whole batch: more may be due, so the next pass starts at once, not after a poll. */
  #backlog = false;

  constructor(options: WorkerOptions) {
    // `??`, not a spread over defaults: an option passed as undefined (startService's, when none is configured) keeps
    // the default instead of polling every millisecond.
    this.#o = { ...options, pollMs: options.pollMs ?? 2000, leaseSeconds: options.leaseSeconds ?? 60, retentionDays: options.retentionDays ?? 7 };
    options.outbox.onEnqueue(() => this.wake());
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce()
        .then(() => undefined)
        .catch((err) => this.#o.logger.error({ err }, 'outbox worker pass failed'))
        .finally(() => {
          this.#running = undefined;
          if (this.#stopped) return;
          const again = this.#again || this.#backlog;
          this.#again = false;
          this.#schedule(again ? 0 : this.#o.pollMs);
        });
    }, ms);
    this.#timer.unref();
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

  /** Delivers every due message once; returns how many were delivered. */
  async runOnce(): Promise<number> {
    await this.#purgeWhenDue();
    const { db, leaseSeconds } = this.#o;
    const claimed = (await db.raw(
      `update outbox set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        where id in (select id from outbox where state = 'pending' and next_attempt_at <= now()
                      order by next_attempt_at limit ${BATCH} for update skip locked)
        returning id, kind, idempotency_key, payload, recipient_hint, subject, state, attempts`,
      [leaseSeconds],
    )) as { rows: OutboxRow[] };
    this.#backlog = claimed.rows.length === BATCH;
    let delivered = 0;
    // Webhooks go to many services, each its own endpoint: the batch's are sent at once; mail one after another.
    const webhooks = claimed.rows.filter((r) => r.kind === WEBHOOK);
    const others = claimed.rows.filter((r) => r.kind !== WEBHOOK);
    const sent = await Promise.all(webhooks.map((row) => this.#deliver(row)));
    delivered += sent.filter(Boolean).length;
    for (const row of others) {
      if (await this.#deliver(row)) delivered++;
    }
    return delivered;
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
      await db('outbox').where({ id: row.id }).update({ state: 'held' });
      logger.info(log, 'mail held in the outbox (no SMTP_URL configured)');
      return false;
    }
    try {
      const message = outbox.openPayload(row);
      // The idempotency key doubles as the Message-ID, so a receiver can drop a redelivery after a crash.
      await transport.sendMail({ from, ...message, messageId: `<${row.idempotency_key}@ringfence>` });
      await db('outbox').where({ id: row.id }).update({ state: 'sent', delivered_at: db.fn.now(), last_error: null });
      logger.info(log, 'mail delivered');
      return true;
    } catch (err) {
      await this.#failed(row, err, log, 'mail delivery failed');
      return false;
    }
  }

  /** A failed attempt: retried later with backoff, or given up on after MAX_ATTEMPTS. */
  async #failed(row: OutboxRow, err: unknown, log: Record<string, unknown>, what: string): Promise<void> {
    const { db, logger } = this.#o;
    const failed = row.attempts >= MAX_ATTEMPTS;
    await db('outbox')
      .where({ id: row.id })
      .update({
        state: failed ? 'failed' : 'pending',
        last_error: String((err as Error).message).slice(0, 500),
        next_attempt_at: db.raw('now() + make_interval(secs => ?)', [backoffSeconds(row.attempts)]),
      });
    logger.warn({ ...log, err: (err as Error).message, gave_up: failed }, what);
  }

  /** A fan-out row: its deliveries written (and queued) in one transaction with its end; retried like a delivery. */
  async #expandWebhooks(row: OutboxRow): Promise<boolean> {
    const { outbox, webhook, logger } = this.#o;
    const log = { outbox_id: row.id, kind: row.kind, attempt: row.attempts };
    if (!webhook) return false;
    try {
      const written = await webhook.expand(row.id, outbox.openWebhookFanOut(row));
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
      await db('outbox').where({ id: row.id }).update({ state: 'held' });
      logger.warn(log, 'webhook held in the outbox (no sender configured)');
      return false;
    }
    const queued = outbox.openWebhook(row);
    try {
      const outcome = await webhook.send(queued.deliveryId, row.attempts);
      if (outcome === 'gone') {
        await db('outbox').where({ id: row.id }).update({ state: 'failed', last_error: 'not delivered: the endpoint is disabled or gone' });
        logger.info({ ...log, client_id: queued.clientId }, 'webhook dropped: the endpoint is disabled or gone');
        return false;
      }
      await db('outbox').where({ id: row.id }).update({ state: 'sent', delivered_at: db.fn.now(), last_error: null });
      logger.info({ ...log, client_id: queued.clientId, type: queued.type }, 'webhook delivered');
      return true;
    } catch (err) {
      await this.#failed(row, err, { ...log, client_id: queued.clientId }, 'webhook delivery failed');
      await webhook.failed(queued.deliveryId, String((err as Error).message), row.attempts >= MAX_ATTEMPTS).catch(() => undefined);
      return false;
    }
  }

  /** One back-channel logout: the provider signs the logout token now and POSTs it; a refusal is retried with backoff. */
  async #deliverBackchannelLogout(row: OutboxRow): Promise<boolean> {
    const { db, logger, outbox, backchannelLogout } = this.#o;
    const log = { outbox_id: row.id, kind: row.kind, attempt: row.attempts };
    if (!backchannelLogout) {
      await db('outbox').where({ id: row.id }).update({ state: 'held' });
      logger.warn(log, 'back-channel logout held in the outbox (no sender configured)');
      return false;
    }
    try {
      const logout = outbox.openBackchannelLogout(row);
      const outcome = await backchannelLogout(logout);
      if (outcome === 'gone') {
        await db('outbox').where({ id: row.id }).update({ state: 'failed', last_error: 'the service is disabled or has no back-channel logout URI' });
        logger.info({ ...log, client_id: logout.clientId }, 'back-channel logout dropped: the service is gone');
        return false;
      }
      await db('outbox').where({ id: row.id }).update({ state: 'sent', delivered_at: db.fn.now(), last_error: null });
      logger.info({ ...log, client_id: logout.clientId }, 'back-channel logout delivered');
      return true;
    } catch (err) {
      await this.#failed(row, err, log, 'back-channel logout delivery failed');
      return false;
    }
  }
}
