/**
 * Delivery visibility (issue 16): the person sees which services were told of each change and whether delivery
 * succeeded; an operator lists failed deliveries and replays them (here, and `npm run services -- deliveries`),
 * and sets a service's webhook URL, which issues its signing secret (shown once).
 */
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps } from '../../deps.ts';
import { DeliveryNotFound, InvalidCursor } from '../../errors.ts';
import type { Keyring } from '../../crypto/envelope.ts';
import {
  enableSsfEndpoint,
  issueWebhookSecret,
  listDeliveries,
  replayDelivery,
  type DeliveryView,
  type WebhookFormat,
} from '../../notify/webhooks.ts';
import { setWebhookUrl } from '../../oidc/services.ts';
import { type Queryable, withTransaction } from '../../store/db.ts';

function encodeDeliveryCursor(last: DeliveryView): string {
  return Buffer.from(JSON.stringify({ at: last.created_at, id: last.delivery_id })).toString('base64url');
}

function decodeDeliveryCursor(cursor: unknown): { at: string; id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as { at?: unknown; id?: unknown };
    if (typeof v.at === 'string' && !Number.isNaN(Date.parse(v.at)) && typeof v.id === 'string' && /^[0-9a-f-]{36}$/.test(v.id)) {
      return { at: v.at, id: v.id };
    }
  } catch {
    // answered below
  }
  throw new InvalidCursor('cursor is not one this API gave: use next_cursor of the last page');
}

/** A page of deliveries and the cursor of the next one. */
export async function deliveriesPage(deps: AppDeps, filter: { userId?: string; state?: string; clientId?: string }, query: Record<string, unknown>) {
  const limit = Number(query.limit ?? 20);
  const rows = await listDeliveries(deps.db, { ...filter, before: decodeDeliveryCursor(query.cursor), limit: limit + 1 });
  const page = rows.slice(0, limit);
  return { deliveries: page, next_cursor: rows.length > limit ? encodeDeliveryCursor(page[page.length - 1]) : null };
}

/** An operator queues a failed delivery again (same `webhook-id`), enabling its endpoint again. */
export async function replay(deps: AppDeps, operator: string, deliveryId: string, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    if (!(await replayDelivery(trx, deps.outbox, deliveryId))) {
      throw new DeliveryNotFound('no undelivered delivery with this id: GET /api/v1/admin/deliveries?state=failed lists them');
    }
    await recordAudit(trx, { action: 'webhook.replayed', actor: `user:${operator}`, clientIp, data: { delivery_id: deliveryId } });
    return { delivery_id: deliveryId, state: 'pending' };
  });
}

/** Where an SSF receiver finds the issuer and its keys (getSsfConfiguration). */
export const ssfConfigurationUrl = (baseUrl: string) => `${baseUrl}/.well-known/ssf-configuration`;

/**
 * Sets (or removes, `url` null) a service's webhook URL and how its events are sent, in `q`: Standard Webhooks with a
 * new signing secret (answered once), or SSF — SETs signed with the issuer key, no secret. The API's and the CLI's.
 */
export async function configureWebhook(q: Queryable, keyring: Keyring, clientId: string, url: string | null, format: WebhookFormat) {
  const service = await setWebhookUrl(q, clientId, url);
  if (url === null) return { service, format: null, secret: undefined };
  if (format === 'ssf') {
    await enableSsfEndpoint(q, clientId);
    return { service, format, secret: undefined };
  }
  return { service, format, secret: await issueWebhookSecret(q, keyring, clientId) };
}

/** An operator sets (or removes) a service's webhook URL; Standard Webhooks gets a new signing secret, answered once. */
export async function setWebhook(deps: AppDeps, operator: string, clientId: string, url: string | null, format: WebhookFormat, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    const set = await configureWebhook(trx, deps.keyring, clientId, url, format);
    await recordAudit(trx, {
      action: 'service.webhook_set',
      actor: `user:${operator}`,
      clientIp,
      data: { client_id: clientId, webhook_url: url, format: set.format, secret_issued: Boolean(set.secret) },
    });
    return {
      client_id: set.service.client_id,
      webhook_url: set.service.webhook_url,
      ...(set.format ? { format: set.format } : {}),
      ...(set.secret ? { webhook_secret: set.secret } : {}),
      ...(set.format === 'ssf' ? { ssf_configuration: ssfConfigurationUrl(deps.config.baseUrl) } : {}),
    };
  });
}
