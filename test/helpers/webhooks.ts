/**
 * A service's webhook receiver on loopback: a real HTTP server that keeps every request it gets (headers and raw
 * body) and answers what the test says, so the delivery side of Ringfence is tested over the wire.
 */
import { createServer } from 'node:http';
import type { Knex } from 'knex';
import { Webhook } from 'standardwebhooks';
import { until } from './until.ts';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** The status the receiver answered. */
  answered: number;
  at: number;
}

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** The status of the n-th request (0-based), or the status and a JSON body; 200 unless set. */
  respond: (n: number) => Answer;
  /** Resolves once `count` requests have arrived (or rejects after `ms`). */
  waitFor(count: number, ms?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

type Answer = number | { status: number; json: unknown };

export async function startReceiver(respond: (n: number) => Answer = () => 200): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: Partial<Receiver> = { received, respond };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = receiver.respond!(received.length);
      const answered = typeof answer === 'number' ? answer : answer.status;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8'), answered, at: Date.now() });
      res.statusCode = answered;
      if (typeof answer === 'number') res.end();
      else res.setHeader('content-type', 'application/json').end(JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  receiver.waitFor = async (count, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} webhooks within ${ms} ms, got ${received.length}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return received.slice(0, count);
  };
  receiver.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return receiver as Receiver;
}

/** The event of a received webhook, verified as a service verifies it (Standard Webhooks); throws when it does not verify. */
export function verified(secret: string, webhook: ReceivedWebhook): Record<string, any> {
  return new Webhook(secret).verify(webhook.body, webhook.headers) as Record<string, any>;
}

/** Until the outbox has no webhook left to deliver now (pending rows due), so "no event" is a fact, not a race. */
export async function webhooksSettled(db: Knex): Promise<void> {
  await until(
    'the webhooks in the outbox to settle',
    async () => {
      const due = await db('outbox')
        .whereIn('kind', ['webhook', 'webhook_fanout'])
        .where({ state: 'pending' })
        .andWhere('next_attempt_at', '<=', db.fn.now())
        .count({ n: '*' })
        .first();
      return Number((due as { n: string }).n) === 0 ? true : undefined;
    },
    10_000,
  );
}
