/**
 * Change events (issue 16): `update-info` latency with 10 and with 1,000 subscribed services — every one with a
 * live grant of the person and a webhook endpoint — and the rate at which the outbox then delivers the events to a
 * receiver on loopback. The write queues ONE fan-out job in its own transaction and counts who will be told in one
 * statement grouped by kind of subscriber (a fixed number of statements, and no per-service work in the process:
 * no grant parsed, no subject computed, no event row written); the outbox worker expands the job into one event per
 * service after the answer, and delivers them. So the request's latency must not grow with subscribers; what grows
 * is the worker's work, in the same process, after the answer (the 1,000-service variant leaves hundreds of
 * deliveries per update behind it, which the worker sends while the next rounds run).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { issueWebhookSecret } from '../../src/notify/webhooks.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { ratio } from '../lib/compare.ts';
import type { LoadRequest } from '../lib/load.ts';
import type { Scenario } from '../lib/scenario.ts';

const SUBSCRIBERS = [10, 1000] as const;

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
      // Deliveries per second, on a quiet outbox: one update of a person granted to 1,000 services, timed from the
      // answer until the receiver has every event it announced.
      const probe = groups[1000][0];
      const before = received;
      const t0 = Date.now();
      const res = await fetch(`${env.service.url}/api/v1/profile/update-info`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${probe.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ updated_fields: { bio: 'Measuring the outbox.' } }),
      });
      const told = ((await res.json()) as { services_told?: number }).services_told ?? 0;
      while (received - before < told && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
      const seconds = (Date.now() - t0) / 1000;
      const delivered = received - before;
      const perSecond = delivered / Math.max(seconds, 0.001);

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

      return {
        variants: results,
        ratios: [ratio(results, 'update-info-1000', 'update-info-10')],
        notes: [
          `Deliveries to a loopback receiver (204), before the load: one update told to ${told} services, all ${delivered} events received ${seconds.toFixed(1)} s after it = ${perSecond.toFixed(0)} per second (the fan-out job expanded by the worker, then 20 claimed per pass and sent at once, one worker per service process).`,
          'A ratio near 1 is the point: the write queues one fan-out job in its transaction and counts who will be told in one statement; the events are made and delivered after the answer.',
        ],
        extra: { deliveriesPerSecond: perSecond, delivered, told, seconds },
      };
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  },
};
