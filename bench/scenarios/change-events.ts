/**
 * Change events (issue 16): `update-info` latency with 10 and with 1,000 subscribed services — every one with a
 * live grant of the person and a webhook endpoint — and the rate at which the outbox then delivers the events to a
 * receiver on loopback. The write queues ONE fan-out job in its own transaction and counts who will be told in one
 * statement grouped by kind of subscriber (a fixed number of statements, and no per-service work in the process:
 * no grant parsed, no subject computed, no event row written); the outbox worker expands the job into one event per
 * service after the answer, and delivers them. So the request's latency must not grow with subscribers; what grows
 * is the worker's work after the answer. The environment runs delivery as production does when it scales out: the
 * measured service serves requests only (OUTBOX_WORKER=false) and a worker instance on the same database delivers.
 * The worker instance is held during the latency rounds — each 1,000-service update leaves 1,000 deliveries behind
 * it, and on this 2-core machine a worker sending them takes the cores the rounds are measured on (×0.70 measured
 * that way, 2026-12-02) — so the rounds measure the request alone; the fan-out jobs they queued are counted and set
 * aside, and deliveries per second are measured after, with the worker instance back, on a backlog of their own.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { issueWebhookSecret } from '../../src/notify/webhooks.ts';
import { grantsChanged } from '../../src/oidc/adapter.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { ratio } from '../lib/compare.ts';
import type { LoadRequest } from '../lib/load.ts';
import type { Scenario } from '../lib/scenario.ts';

const SUBSCRIBERS = [10, 1000] as const;
/** The outbox kind of a fan-out job (src/notify/outbox.ts). */
const WEBHOOK_FAN_OUT = 'webhook_fanout';

export const changeEvents: Scenario = {
  name: 'change-events',
  title: 'Change events (update-info with 10 / 1,000 subscribed services; deliveries per second)',
  description:
    'PUT /api/v1/profile/update-info changing bio for people granted to 10 services vs people granted to 1,000 (each ' +
    'with a webhook endpoint); then how many signed webhooks per second the outbox delivers to a loopback receiver.',
  async run(ctx) {
    const env = await ctx.main();
    let received = 0;
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    try {
      const services = await env.seeder.ensureServices(SUBSCRIBERS[1]);
      await env
        .db('services')
        .whereIn(
          'client_id',
          services.map((s) => s.clientId),
        )
        .update({ webhook_url: hookUrl });
      for (const s of services) await issueWebhookSecret(env.db, env.keyring, s.clientId);

      const people = Math.max(4, Math.min(20, ctx.profile.spreadUsers));
      const sessions = await env.seeder.sessions(people * 2);
      const groups = { 10: sessions.slice(0, people), 1000: sessions.slice(people) };
      const resource = `${env.service.url}/api/v1/data`;
      const scope = [...supportedScopes(loadPolicies())].filter((s) => s !== 'openid' && s !== 'offline_access').join(' ');
      const now = Math.floor(Date.now() / 1000);
      // Grants as the provider stores them (its adapter's rows), in bulk: what the events are computed from.
      for (const n of SUBSCRIBERS) {
        const rows = groups[n].flatMap((u) =>
          services.slice(0, n).map((s) => {
            const id = randomBytes(32).toString('base64url').slice(0, 43);
            return {
              kind: 'Grant',
              id,
              payload: JSON.stringify({
                iat: now,
                exp: now + 86_400,
                jti: id,
                kind: 'Grant',
                accountId: u.userId,
                clientId: s.clientId,
                openid: { scope: 'openid' },
                resources: { [resource]: scope },
              }),
              account_id: u.userId,
              client_id: s.clientId,
              expires_at: new Date((now + 86_400) * 1000),
            };
          }),
        );
        for (let i = 0; i < rows.length; i += 1000) await env.db('oidc_payloads').insert(rows.slice(i, i + 1000));
        // Written beside the adapter: say so, as its writes do (each person's stored subscriber counts are recomputed).
        await grantsChanged(
          env.db,
          groups[n].map((u) => u.userId),
        );
      }
      await env.db.raw('analyze oidc_payloads, services, webhook_endpoints');

      const requestsFor = (n: 10 | 1000): LoadRequest[] =>
        ['Volunteers at the food bank on Saturdays.', 'Learning the cello, slowly.'].flatMap((bio) =>
          groups[n].map((s) => ({
            method: 'PUT',
            path: '/api/v1/profile/update-info',
            headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ updated_fields: { bio } }),
          })),
        );
      // The request alone: delivery held (queued work waits durably in the outbox) while the rounds run.
      await env.holdWorker();
      const results = await ctx.compare([
        {
          name: 'update-info-1000',
          label: `update-info, ${people} people granted to 1,000 services each`,
          role: 'subject',
          target: env.service,
          requests: requestsFor(1000),
        },
        {
          name: 'update-info-10',
          label: `update-info, ${people} people granted to 10 services each`,
          role: 'baseline',
          target: env.service,
          requests: requestsFor(10),
        },
      ]);
      const [{ n: queuedJobs }] = (await env.db('outbox').where({ kind: WEBHOOK_FAN_OUT, state: 'pending' }).count({ n: '*' })) as { n: string }[];
      // Set aside: they would be ≈ 1,000 deliveries each to the one receiver, minutes of sending for no measurement.
      await env.db('outbox').where({ kind: WEBHOOK_FAN_OUT, state: 'pending' }).delete();
      await env.resumeWorker();

      // Deliveries per second, on a quiet outbox: updates of people granted to 1,000 services each, timed from the
      // first answer until the receiver has every event they announced.
      const probes = groups[1000].slice(0, 3);
      const before = received;
      const t0 = Date.now();
      let told = 0;
      for (const probe of probes) {
        const res = await fetch(`${env.service.url}/api/v1/profile/update-info`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${probe.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ updated_fields: { bio: `Measuring the outbox, ${randomBytes(4).toString('hex')}.` } }),
        });
        told += ((await res.json()) as { services_told?: number }).services_told ?? 0;
      }
      while (received - before < told && Date.now() - t0 < 180_000) await new Promise((r) => setTimeout(r, 50));
      const seconds = (Date.now() - t0) / 1000;
      const delivered = received - before;
      const perSecond = delivered / Math.max(seconds, 0.001);

      return {
        variants: results,
        ratios: [ratio(results, 'update-info-1000', 'update-info-10')],
        notes: [
          `The rounds ran with the worker instance held: they queued ${queuedJobs} fan-out jobs (one per update, however many services it tells), set aside after the rounds; the request's latency is the write, the count of who will be told and the one job queued.`,
          `Deliveries to a loopback receiver (204), after the rounds with the worker instance back: ${probes.length} updates told to ${told} services in all, ${delivered} events received ${seconds.toFixed(1)} s after the first = ${perSecond.toFixed(0)} per second (each fan-out job expanded by the worker instance, its deliveries claimed and sent in passes).`,
          'A ratio near 1 is the point: the write queues one fan-out job in its transaction and counts who will be told in one statement; the events are made and delivered after the answer, by whichever instance delivers.',
        ],
        extra: { deliveriesPerSecond: perSecond, delivered, told, seconds, queuedFanOutJobs: Number(queuedJobs) },
      };
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  },
};
