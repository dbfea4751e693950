/**
 * The owner reads their whole profile: session check, the profile's data key unwrapped, every field decrypted and
 * presented. Baseline: bare Koa + pg reading the same profiles' field rows (no token, no decryption). Target
 * (issue 19): ≥ 0.60 of it.
 */
import { ratio } from '../lib/compare.ts';
import type { Scenario } from '../lib/scenario.ts';
import { judgeRatio } from '../lib/targets.ts';

export const ownerRead: Scenario = {
  name: 'owner-read',
  title: 'Owner profile read',
  description:
    'GET /api/v1/profile with a session token (token check + key unwrap + decrypt every field) vs bare Koa + pg reading ' +
    'the same profile rows, and vs the framework ceiling.',
  async run(ctx) {
    const env = await ctx.main();
    const sessions = await env.seeder.sessions(ctx.profile.spreadUsers);
    const results = await ctx.compare([
      {
        name: 'owner-read',
        label: `GET /api/v1/profile (${sessions.length} users)`,
        role: 'subject',
        target: env.service,
        requests: sessions.map((s) => ({ path: '/api/v1/profile', headers: { authorization: `Bearer ${s.token}` } })),
      },
      {
        name: 'koa-pg',
        label: 'bare Koa + pg, the same profiles’ field rows',
        role: 'baseline',
        target: env.koaPg,
        requests: sessions.map((s) => ({ path: `/read/${s.profileId}` })),
      },
      { name: 'koa-constant', label: 'bare Koa, constant JSON', role: 'ceiling', target: ctx.constant, requests: [{ path: '/' }] },
    ]);
    const ratios = [ratio(results, 'owner-read', 'koa-pg'), ratio(results, 'owner-read', 'koa-constant')];
    return { variants: results, ratios, targets: [judgeRatio('owner-read-throughput', ratios)] };
  },
};
