/**
 * The owner reads their whole profile: session check, the profile's data key unwrapped, every field decrypted and
 * presented. Baseline: bare Koa + pg reading the same profiles' field rows (no token, no decryption). Target
 * (issue 19): ≥ 0.60 of it.
 */
import { ratio } from '../lib/compare.ts';
import { bareReadVariants, type Scenario } from '../lib/scenario.ts';
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
      ...bareReadVariants(
        env.koaPg,
        ctx.constant,
        sessions.map((s) => s.profileId),
      ),
    ]);
    const ratios = [ratio(results, 'owner-read', 'koa-pg'), ratio(results, 'owner-read', 'koa-constant')];
    return { variants: results, ratios, targets: [judgeRatio('owner-read-throughput', ratios)] };
  },
};
