/**
 * Webhooks to services, signed per Standard Webhooks (the `standardwebhooks` package, symmetric: one `whsec_…`
 * secret per service, sealed at rest under a KEK-derived key and shown to the operator once). An event is thin — its
 * type, the person's subject at that service, the names of the fields that changed and the new profile version,
 * never a value — and is owed from the transaction of the change that causes it: a `webhook_deliveries` row (the
 * record the person and the operator read) and an outbox row that queues it, written there, or a fan-out row written
 * there and expanded into them by the worker right after the commit (a change told to many services: its
 * transaction writes one row whatever their number, and a profile update's events are decided at the expansion,
 * src/features/deliveries/events.ts). The worker (src/notify/outbox.ts) delivers each with retries and exponential
 * backoff; every attempt carries the same
 * `webhook-id`, so a receiver drops a redelivery. An endpoint that answers 410 Gone, or fails
 * DISABLE_AFTER_FAILURES attempts in a row, is disabled, and the operator is told (audit event, log line, the
 * admin deliveries list).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type LookupAddress, lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { recordAudit } from '../audit/audit.ts';
import { open, seal, type Keyring } from '../crypto/envelope.ts';
import type { Db, Queryable } from '../store/db.ts';
import type { Outbox, WebhookSender } from './outbox.ts';
import { SET_MEDIA_TYPE, type SetSigner, setRefusal, signSecurityEvent, type ThinEvent } from './security-events.ts';

/** Attempts failed in a row (across deliveries) after which an endpoint is disabled. */
export const DISABLE_AFTER_FAILURES = 20;
/** How long one delivery attempt may take. */
const TIMEOUT_MS = 10_000;
/** How much of an endpoint's answer is read (an SSF receiver's error: RFC 8935 §2.3); the rest is discarded. */
const ANSWER_KEPT = 4096;

/** One event owed to a service. */
export interface WebhookEvent {
  clientId: string;
  /** The person it is about (for their deliveries list). */
  userId: string;
  type: 'profile.updated' | 'grant.revoked';
  profileVersion?: number;
  /** The event's JSON body, as sent: names of fields, never values. */
  body: Record<string, unknown>;
}

/**
 * How a service's events are sent (migrations/034_webhook_formats.ts): JSON signed per Standard Webhooks, or a
 * Security Event Token with the OpenID CAEP event pushed per RFC 8935 (src/notify/security-events.ts).
 */
export type WebhookFormat = 'standard-webhooks' | 'ssf';

/** The `webhook-id` of a delivery: the same on every attempt. */
function webhookId(deliveryId: string): string {
  return `msg_${deliveryId.replaceAll('-', '')}`;
}

const secretKey = (keyring: Keyring) => keyring.derive('webhook-secrets');
const secretAad = (clientId: string) => `webhook_endpoints:${clientId}`;

/**
 * A new signing secret for the service's webhook endpoint, replacing any earlier one and enabling the endpoint
 * again; the secret is in the answer only (sealed in the table).
 */
export async function issueWebhookSecret(q: Queryable, keyring: Keyring, clientId: string): Promise<string> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await q('webhook_endpoints')
    .insert({ client_id: clientId, secret: seal(secretKey(keyring), secret, secretAad(clientId)), format: 'standard-webhooks', failures: 0 })
    .onConflict('client_id')
    .merge({
      secret: seal(secretKey(keyring), secret, secretAad(clientId)),
      format: 'standard-webhooks',
      failures: 0,
      disabled_at: null,
      disabled_reason: null,
    });
  return secret;
}

/**
 * Makes the service's endpoint an SSF receiver's (events as SETs signed with the issuer key, so no secret of its
 * own: any earlier `whsec_…` secret is dropped), enabling it again.
 */
export async function enableSsfEndpoint(q: Queryable, clientId: string): Promise<void> {
  await q('webhook_endpoints')
    .insert({ client_id: clientId, secret: null, format: 'ssf', failures: 0 })
    .onConflict('client_id')
    .merge({ secret: null, format: 'ssf', failures: 0, disabled_at: null, disabled_reason: null });
}

/** Services (of those named) that can be sent webhooks now: a webhook URL and an enabled endpoint. */
export async function reachableEndpoints(q: Queryable, clientIds: readonly string[]): Promise<Set<string>> {
  if (clientIds.length === 0) return new Set();
  const rows = (await q('services as s')
    .join('webhook_endpoints as e', 'e.client_id', 's.client_id')
    .whereIn('s.client_id', clientIds)
    .whereNotNull('s.webhook_url')
    .whereNull('e.disabled_at')
    .pluck('s.client_id')) as string[];
  return new Set(rows);
}

/**
 * Events to this many services or fewer are written one row each in the transaction of the change; more are written
 * as one fan-out row of the outbox, which the worker expands into the deliveries (in one transaction, once) right
 * after: the change's transaction writes a fixed number of rows whatever the number of services.
 */
const FAN_OUT_OVER = 20;

/** Queues the events in `q`, the transaction of the change that causes them. */
export async function enqueueWebhookEvents(q: Queryable, outbox: Outbox, events: readonly WebhookEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (events.length > FAN_OUT_OVER) await outbox.enqueueWebhookFanOut(q, events, `services:${events.length}`);
  else await writeWebhookEvents(q, outbox, events);
}

/**
 * A change whose events are decided when it is expanded, not when it is written (a profile update told to every
 * service that can read it: src/features/deliveries/events.ts). `type` names the expander's kind of job.
 */
export interface FanOutJob {
  type: string;
}

/**
 * Queues a fan-out job in `q`, the transaction of the change: one row, whatever the number of services it will
 * reach; the worker expands it with WebhookSenderDeps.expandJob right after the commit. `hint` names what it is
 * about in the outbox row (never a value).
 */
export async function enqueueWebhookFanOut(q: Queryable, outbox: Outbox, job: FanOutJob, hint: string): Promise<void> {
  await outbox.enqueueWebhookFanOut(q, job, hint);
}

/**
 * The id of the delivery a fan-out row expands into for one key (a service, or an event's place in the row): the
 * same on every expansion of the row, so an expansion run twice — after a crash, or by a second worker once a lease
 * ran out — writes each delivery once (the id is its primary key, the outbox row's key is derived from it). A UUID
 * of version 8 over SHA-256; unpredictable, as the fan-out row's own id is random.
 */
function fanOutDeliveryId(outboxId: string, key: string): string {
  const h = createHash('sha256').update(`webhook-fanout\u0000${outboxId}\u0000${key}`).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * Writes the events' deliveries and their outbox rows in `q`, under the ids given (random ones otherwise); a
 * delivery already written under its id is left as it is, and so is its outbox row.
 */
async function writeWebhookEvents(q: Queryable, outbox: Outbox, events: readonly WebhookEvent[], ids?: readonly string[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e, i) => ({ id: ids?.[i] ?? randomUUID(), ...e }));
  // One statement each, whatever the number of services (arrays unnested): the write's latency stays flat.
  await q.raw(
    `insert into webhook_deliveries (id, client_id, user_id, type, profile_version, body)
     select id, client_id, user_id, type, profile_version, body::jsonb
       from unnest(?::uuid[], ?::text[], ?::uuid[], ?::text[], ?::int[], ?::text[]) as r(id, client_id, user_id, type, profile_version, body)
     on conflict (id) do nothing`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.clientId),
      rows.map((r) => r.userId),
      rows.map((r) => r.type),
      rows.map((r) => (r.profileVersion === undefined ? null : String(r.profileVersion))) as string[],
      rows.map((r) => JSON.stringify({ ...r.body, id: webhookId(r.id) })),
    ],
  );
  await outbox.enqueueWebhooks(
    q,
    rows.map((r) => ({ deliveryId: r.id, clientId: r.clientId, type: r.type })),
  );
}

interface DeliveryRow {
  id: string;
  client_id: string;
  user_id: string | null;
  type: string;
  body: unknown;
  state: string;
  webhook_url: string | null;
  service_disabled_at: Date | null;
  secret: Uint8Array | null;
  format: WebhookFormat | null;
  failures: number | null;
  endpoint_disabled_at: Date | null;
}

const PRIVATE_V4 = [
  /^10\./,
  /^127\./,
  /^0\./,
  /^169\.254\./,
  /^192\.168\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
];

function privateAddress(address: string): boolean {
  if (isIP(address) === 4) return PRIVATE_V4.some((r) => r.test(address));
  const a = address.toLowerCase();
  if (a.startsWith('::ffff:')) {
    // An IPv4-mapped address, dotted (::ffff:127.0.0.1) or as URL parsing writes it, in hex (::ffff:7f00:1).
    const rest = a.slice(7);
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
    if (!hex) return privateAddress(rest);
    const [hi, lo] = [Number.parseInt(hex[1], 16), Number.parseInt(hex[2], 16)];
    return privateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return a === '::1' || a === '::' || a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe80');
}

/** Why a destination named by an IP literal is refused (in production, a private address); undefined when it is not. */
function privateDestination(url: URL, production: boolean): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (production && isIP(host) && privateAddress(host)) return `${url.host} is a private address: not delivered`;
  return undefined;
}

/**
 * POSTs a webhook and answers the status and the first ANSWER_KEPT bytes of the answer (the rest is discarded;
 * redirects are not followed). In production it may go
 * only to a public address (the SSRF guard the provider keeps for its own requests): an IP literal is checked here,
 * a name by the lookup of the very connection that is made — every address it resolves to must be public — so a
 * name that resolves to a public address when checked and to a private one when connected (DNS rebinding) is
 * refused too. Elsewhere a service may run on this machine, as registration allows plain http to loopback.
 */
export function postWebhook(
  url: URL,
  request: { headers: Record<string, string>; body: string; signal: AbortSignal },
  production: boolean,
): Promise<{ status: number; body: string }> {
  const refused = privateDestination(url, production);
  if (refused) return Promise.reject(new Error(refused));
  const guarded: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, found) => {
      const addresses = found as unknown as LookupAddress[];
      if (err) return callback(err, '', 0);
      if (addresses.length === 0 || addresses.some((a) => privateAddress(a.address))) {
        return callback(new Error(`${url.host} resolves to a private address: not delivered`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      signal: request.signal,
      agent: false,
      ...(production ? { lookup: guarded } : {}),
    });
    req.on('response', (res) => {
      const kept: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < ANSWER_KEPT) kept.push(chunk.subarray(0, ANSWER_KEPT - size));
        size += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(kept).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

export interface WebhookSenderDeps {
  db: Db;
  keyring: Keyring;
  outbox: Outbox;
  logger: Logger;
  /** Only public destinations (production, unless WEBHOOKS_TO_PRIVATE_ADDRESSES). */
  production: boolean;
  /**
   * The events of a fan-out job (enqueueWebhookFanOut), decided in `trx`, the transaction that writes them and ends
   * the job; each event's service appears once.
   */
  expandJob(trx: Knex.Transaction, job: FanOutJob): Promise<WebhookEvent[]>;
  /** How long one attempt may take: shorter than the outbox lease (deliveryTimeoutMs); 10 s when absent. */
  timeoutMs?: number;
  /** The issuer key that signs the SETs of `ssf` endpoints, as it is now. */
  signer(): SetSigner;
  /**
   * The new values of a profile change's fields the service may read now, released through the disclosure pipeline
   * and on record when this resolves (a CAEP `token-claims-change` carries them): empty when none is released.
   */
  releaseClaims(change: {
    clientId: string;
    userId: string;
    fields: readonly string[];
    documents: readonly string[];
  }): Promise<Record<string, unknown>>;
}

/** What the outbox worker calls to deliver one webhook (src/notify/outbox.ts). */
export function webhookSender(deps: WebhookSenderDeps): WebhookSender {
  const { db, keyring, logger } = deps;

  const disable = async (clientId: string, reason: string) => {
    const disabled = await db('webhook_endpoints')
      .where({ client_id: clientId })
      .whereNull('disabled_at')
      .update({ disabled_at: db.fn.now(), disabled_reason: reason });
    if (disabled === 0) return;
    // The operator is told: the audit log, a warning, and the admin deliveries list (GET /api/v1/admin/deliveries).
    await recordAudit(db, { action: 'webhook.endpoint_disabled', actor: 'system', data: { client_id: clientId, reason } });
    logger.warn(
      { client_id: clientId, reason },
      'webhook endpoint disabled: replay its deliveries once it is fixed (npm run services -- deliveries)',
    );
  };

  const timeoutMs = deps.timeoutMs ?? TIMEOUT_MS;

  /** The event as Standard Webhooks sends it: its JSON, signed with the service's secret. */
  const standardWebhook = (row: DeliveryRow) => {
    const secret = open(secretKey(keyring), Buffer.from(row.secret!), secretAad(row.client_id)).toString('utf8');
    const body = typeof row.body === 'string' ? row.body : JSON.stringify(row.body);
    const id = webhookId(row.id);
    const now = new Date();
    return {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Ringfence-Webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(id, now, body),
      },
      body,
    };
  };

  /**
   * The event as a SET (RFC 8935 push), signed now; a profile change's claims released now. A sentence instead when
   * there is nothing to send: no claim of the change is released to the service any more.
   */
  const securityEvent = async (row: DeliveryRow) => {
    const event = (typeof row.body === 'string' ? JSON.parse(row.body) : row.body) as ThinEvent & { fields?: string[]; documents?: string[] };
    // The key first: without one, nothing is released for a SET that could not be signed.
    const signer = deps.signer();
    let claims: Record<string, unknown> | undefined;
    if (row.type === 'profile.updated') {
      if (!row.user_id) return 'the person is gone: not sent';
      claims = await deps.releaseClaims({
        clientId: row.client_id,
        userId: row.user_id,
        fields: event.fields ?? [],
        documents: event.documents ?? [],
      });
      if (Object.keys(claims).length === 0) return 'nothing of the change is released to the service now: not sent';
    }
    return {
      headers: { 'content-type': SET_MEDIA_TYPE, accept: 'application/json', 'user-agent': 'Ringfence-SSF/1' },
      body: await signSecurityEvent(signer, { clientId: row.client_id }, event, claims),
    };
  };

  return {
    async expand(outboxId, payload, claim) {
      // Once: the deliveries and the fan-out row's end commit together, or not at all (then it is expanded again,
      // into the same delivery ids: a second expansion adds nothing).
      return db.transaction(async (trx) => {
        // Fenced: only while this worker still holds the row under its claim.
        const claimed = await trx('outbox').where({ id: outboxId, state: 'pending', claim }).forUpdate().first('id');
        if (!claimed) return 0;
        // An array: the events as the change computed them (a revocation told to many); else a job decided now.
        const events = Array.isArray(payload) ? (payload as WebhookEvent[]) : await deps.expandJob(trx, payload as FanOutJob);
        const ids = events.map((e, i) => fanOutDeliveryId(outboxId, Array.isArray(payload) ? String(i) : e.clientId));
        await writeWebhookEvents(trx, deps.outbox, events, ids);
        await trx('outbox').where({ id: outboxId, claim }).update({ state: 'sent', delivered_at: trx.fn.now(), last_error: null, claim: null });
        return events.length;
      });
    },
    async send(deliveryId, attempt, leaseLost) {
      const row = (await db('webhook_deliveries as d')
        .join('services as s', 's.client_id', 'd.client_id')
        .leftJoin('webhook_endpoints as e', 'e.client_id', 'd.client_id')
        .where('d.id', deliveryId)
        .first(
          'd.id',
          'd.client_id',
          'd.user_id',
          'd.type',
          'd.body',
          'd.state',
          's.webhook_url',
          's.disabled_at as service_disabled_at',
          'e.secret',
          'e.format',
          'e.failures',
          'e.disabled_at as endpoint_disabled_at',
        )) as DeliveryRow | undefined;
      if (!row) return 'gone';
      if (row.state === 'delivered') return 'sent';
      const drop = async (why: string) => {
        await db('webhook_deliveries').where({ id: deliveryId }).update({ state: 'dropped', last_error: why, attempts: attempt });
        return 'gone' as const;
      };
      // A disabled service is still told that its grants are gone; nothing else.
      if (row.service_disabled_at && row.type !== 'grant.revoked') return drop('the service is disabled');
      const ssf = row.format === 'ssf';
      if (!row.webhook_url || !row.format || (!ssf && !row.secret)) return drop('the service has no webhook URL');
      if (row.endpoint_disabled_at) return drop('the webhook endpoint is disabled');
      const url = new URL(row.webhook_url);
      /** A failed attempt: counted against the endpoint (disabled after a run of them), then retried. */
      const attemptFailed = async (err: unknown): Promise<never> => {
        await db('webhook_endpoints').where({ client_id: row.client_id }).increment('failures', 1);
        await db('webhook_deliveries').where({ id: deliveryId }).update({ attempts: attempt, last_status: null });
        if ((row.failures ?? 0) + 1 >= DISABLE_AFTER_FAILURES) await disable(row.client_id, `${DISABLE_AFTER_FAILURES} failed attempts in a row`);
        throw err;
      };
      // Refused before anything is made: an SSF event's claims are released (and recorded) only for a SET that can go.
      const refused = privateDestination(url, deps.production);
      if (refused) return attemptFailed(new Error(refused));
      const message = ssf ? await securityEvent(row) : standardWebhook(row);
      if (typeof message === 'string') return drop(message);
      let status: number | undefined;
      let answer = '';
      try {
        ({ status, body: answer } = await postWebhook(
          url,
          {
            signal: leaseLost ? AbortSignal.any([AbortSignal.timeout(timeoutMs), leaseLost]) : AbortSignal.timeout(timeoutMs),
            ...message,
          },
          deps.production,
        ));
      } catch (err) {
        // Stopped because the outbox lease was lost: not the endpoint's failure, and the holder of the lease decides.
        if (leaseLost?.aborted) throw leaseLost.reason ?? err;
        return attemptFailed(err);
      }
      if (status >= 200 && status < 300) {
        await db('webhook_deliveries')
          .where({ id: deliveryId })
          .update({ state: 'delivered', attempts: attempt, last_status: status, last_error: null, delivered_at: db.fn.now() });
        await db('webhook_endpoints').where({ client_id: row.client_id }).update({ failures: 0 });
        return 'sent';
      }
      await db('webhook_deliveries').where({ id: deliveryId }).update({ attempts: attempt, last_status: status });
      if (ssf && status === 400) {
        // RFC 8935 §2.3: the receiver refused this SET (its `err` says why); the same SET again would be refused too.
        // Failed, not retried: the operator sees it among the failed deliveries and replays it once it is fixed.
        await db('webhook_deliveries')
          .where({ id: deliveryId })
          .update({ state: 'failed', last_error: setRefusal(answer) });
        await db('webhook_endpoints').where({ client_id: row.client_id }).increment('failures', 1);
        if ((row.failures ?? 0) + 1 >= DISABLE_AFTER_FAILURES) await disable(row.client_id, `${DISABLE_AFTER_FAILURES} failed attempts in a row`);
        return 'gone';
      }
      if (status === 410) {
        await disable(row.client_id, 'the endpoint answered 410 Gone');
        return drop('the endpoint answered 410 Gone');
      }
      await db('webhook_endpoints').where({ client_id: row.client_id }).increment('failures', 1);
      if ((row.failures ?? 0) + 1 >= DISABLE_AFTER_FAILURES) {
        await disable(row.client_id, `${DISABLE_AFTER_FAILURES} failed attempts in a row`);
        return drop(`HTTP ${status}; the endpoint is disabled after ${DISABLE_AFTER_FAILURES} failed attempts in a row`);
      }
      throw new Error(`the endpoint answered HTTP ${status}`);
    },
    async failed(deliveryId, error, gaveUp) {
      await db('webhook_deliveries')
        .where({ id: deliveryId })
        .whereNot({ state: 'delivered' })
        .update({ state: gaveUp ? 'failed' : 'pending', last_error: error.slice(0, 500) });
    },
  };
}

/**
 * Queues a failed (or dropped) delivery again, with a fresh run of attempts and the same `webhook-id`; the
 * service's endpoint is enabled again (the operator's replay says it is fixed). False when there is no such
 * delivery, or it was delivered already.
 */
export async function replayDelivery(q: Queryable, outbox: Outbox, deliveryId: string): Promise<boolean> {
  const row = (await q('webhook_deliveries').where({ id: deliveryId }).first('id', 'client_id', 'type', 'state')) as
    | { id: string; client_id: string; type: string; state: string }
    | undefined;
  if (!row || row.state === 'delivered') return false;
  await q('webhook_deliveries').where({ id: deliveryId }).update({ state: 'pending', attempts: 0, last_error: null });
  await q('webhook_endpoints').where({ client_id: row.client_id }).update({ failures: 0, disabled_at: null, disabled_reason: null });
  await outbox.requeueWebhook(q, { deliveryId: row.id, clientId: row.client_id, type: row.type });
  return true;
}

/** A delivery as the person and the operator see it. */
export interface DeliveryView {
  delivery_id: string;
  webhook_id: string;
  service_id: string;
  service_name: string;
  type: string;
  profile_version: number | null;
  fields: string[];
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  endpoint_disabled_at: string | null;
}

/** Deliveries, newest first: the person's (userId), or all of one state (the operator's), in pages. */
export async function listDeliveries(
  q: Queryable,
  filter: { userId?: string; state?: string; clientId?: string; before?: { at: string; id: string }; limit: number },
): Promise<DeliveryView[]> {
  const builder = q('webhook_deliveries as d')
    .join('services as s', 's.client_id', 'd.client_id')
    .leftJoin('webhook_endpoints as e', 'e.client_id', 'd.client_id')
    .orderBy([
      { column: 'd.created_at', order: 'desc' },
      { column: 'd.id', order: 'desc' },
    ])
    .limit(filter.limit)
    .select('d.*', 's.name as service_name', 'e.disabled_at as endpoint_disabled_at');
  if (filter.userId) builder.where('d.user_id', filter.userId);
  if (filter.state) builder.where('d.state', filter.state);
  if (filter.clientId) builder.where('d.client_id', filter.clientId);
  if (filter.before) builder.whereRaw('(d.created_at, d.id) < (?::timestamptz, ?::uuid)', [filter.before.at, filter.before.id]);
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  const rows = (await builder) as Record<string, any>[];
  return rows.map((r) => {
    const body = (typeof r.body === 'string' ? JSON.parse(r.body) : r.body) as { fields?: string[] };
    return {
      delivery_id: r.id,
      webhook_id: webhookId(r.id),
      service_id: r.client_id,
      service_name: r.service_name,
      type: r.type,
      profile_version: r.profile_version,
      fields: body.fields ?? [],
      state: r.state,
      attempts: r.attempts,
      last_status: r.last_status,
      last_error: r.last_error,
      created_at: iso(r.created_at)!,
      delivered_at: iso(r.delivered_at),
      endpoint_disabled_at: iso(r.endpoint_disabled_at),
    };
  });
}
