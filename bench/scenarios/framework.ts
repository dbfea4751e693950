/**
 * The floor under every other number: bare Koa returning a constant (the framework ceiling), bare Koa + pg reading
 * one profile's sealed field rows by primary key (what any read costs at least), and the real service's two
 * cheapest endpoints beside them — /healthz (the service's middleware stack around a constant) and /readyz (a
 * database round trip and the migration check).
 */
import { ratio } from '../lib/compare.ts';
import type { Scenario } from '../lib/scenario.ts';

export const framework: Scenario = {
  name: 'framework',
  title: 'Framework ceiling and health endpoints',
  description:
    'Bare Koa (constant JSON) and bare Koa + pg (one profile’s sealed fields by primary key, named statement) beside ' +
    'the real service’s GET /healthz and GET /readyz.',
  async run(ctx) {
    const env = await ctx.main();
    const users = await env.seeder.sample(ctx.profile.spreadUsers);
    const results = await ctx.compare([
      { name: 'koa-constant', label: 'bare Koa, constant JSON', role: 'ceiling', target: ctx.constant, requests: [{ path: '/' }] },
      { name: 'healthz', label: 'GET /healthz', role: 'subject', target: env.service, requests: [{ path: '/healthz' }] },
      {
        name: 'koa-pg',
        label: `bare Koa + pg, a profile’s fields by primary key (${users.length} profiles)`,
        role: 'baseline',
        target: env.koaPg,
        requests: users.map((u) => ({ path: `/read/${u.profileId}` })),
      },
      { name: 'readyz', label: 'GET /readyz (select 1 + migration check)', role: 'subject', target: env.service, requests: [{ path: '/readyz' }] },
    ]);
    return {
      variants: results,
      ratios: [ratio(results, 'healthz', 'koa-constant'), ratio(results, 'koa-pg', 'koa-constant'), ratio(results, 'readyz', 'koa-pg')],
      notes: [
        'healthz / koa-constant is the cost of the service’s middleware (request id, log, error envelope, helmet, no-store, spec router) on a constant answer.',
      ],
    };
  },
};
