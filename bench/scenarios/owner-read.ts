/**
 * The owner reads their whole profile: session check, the profile's data key unwrapped, every field decrypted and
 * presented. Baseline: bare Koa + pg reading the same profiles' field rows (no token, no decryption).
 */
import { ratio } from '../lib/compare.ts';
import type { Scenario } from '../lib/scenario.ts';

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
    return {
      variants: results,
      ratios: [ratio(results, 'owner-read', 'koa-pg'), ratio(results, 'owner-read', 'koa-constant')],
    };
  },
};
