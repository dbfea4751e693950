/**
 * Delivery visibility (issue 16): the person sees which services were told of each change and whether delivery
 * succeeded; an operator lists failed deliveries and replays them (here, and `npm run services -- deliveries`),
 * and sets a service's webhook URL, which issues its signing secret (shown once).
 */
import { recordAudit } from '../../audit/audit.ts';
import type { AppDeps } from '../../deps.ts';
import { DeliveryNotFound, InvalidCursor } from '../../errors.ts';
import { issueWebhookSecret, listDeliveries, replayDelivery, type DeliveryView } from '../../notify/webhooks.ts';
import { setWebhookUrl } from '../../oidc/services.ts';
import { withTransaction } from '../../store/db.ts';

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

/** An operator sets (or removes) a service's webhook URL; a URL gets a new signing secret, answered once. */
export async function setWebhook(deps: AppDeps, operator: string, clientId: string, url: string | null, clientIp: string) {
  return withTransaction(deps.db, async (trx) => {
    const service = await setWebhookUrl(trx, clientId, url);
    const secret = url ? await issueWebhookSecret(trx, deps.keyring, clientId) : undefined;
    await recordAudit(trx, {
      action: 'service.webhook_set',
      actor: `user:${operator}`,
      clientIp,
      data: { client_id: clientId, webhook_url: url, secret_issued: Boolean(secret) },
    });
    return { client_id: service.client_id, webhook_url: service.webhook_url, ...(secret ? { webhook_secret: secret } : {}) };
  });
}
