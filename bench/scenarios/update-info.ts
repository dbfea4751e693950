/**
 * The owner changes two fields: validation, the profile locked, values sealed and upserted, the version bumped and
 * the change audited, in one transaction. Baseline: bare Koa + pg running one single-statement update of the same
 * profile rows (a commit per request, no lock, no audit). Target (issue 19): ≥ 0.20 of it.
 * With 0 subscribed services; bench/scenarios/change-events.ts measures 10 and 1,000 (issue 16).
 */
import { ratio } from '../lib/compare.ts';
import type { LoadRequest } from '../lib/load.ts';
import type { Scenario } from '../lib/scenario.ts';
import { judgeRatio } from '../lib/targets.ts';

export const updateInfo: Scenario = {
  name: 'update-info',
  title: 'Profile update (update-info)',
  description:
    'PUT /api/v1/profile/update-info changing bio and occupation (lock + seal + upsert + version + audit in one ' +
    'transaction) vs bare Koa + pg running one single-statement update of the same profile row.',
  async run(ctx) {
    const env = await ctx.main();
    const sessions = await env.seeder.sessions(ctx.profile.spreadUsers);
    // Two bodies per user, so consecutive writes really change the stored values.
    const requests: LoadRequest[] = [];
    for (const bio of ['Volunteers at the food bank on Saturdays.', 'Learning the cello, slowly.']) {
      for (const s of sessions) {
        requests.push({
          method: 'PUT',
          path: '/api/v1/profile/update-info',
          headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ updated_fields: { bio, occupation: bio.length % 2 ? 'paramedic' : 'teacher' } }),
        });
      }
    }
    const results = await ctx.compare([
      { name: 'update-info', label: `PUT /api/v1/profile/update-info (${sessions.length} users)`, role: 'subject', target: env.service, requests },
      {
        name: 'koa-pg-write',
        label: 'bare Koa + pg, one update of the same profile row',
        role: 'baseline',
        target: env.koaPg,
        requests: sessions.map((s) => ({ method: 'POST', path: `/write/${s.profileId}` })),
      },
    ]);
    const ratios = [ratio(results, 'update-info', 'koa-pg-write')];
    return {
      variants: results,
      ratios,
      targets: [judgeRatio('update-info-throughput', ratios)],
      notes: ['Measured with 0 subscribed services: the change-events scenario measures 10 and 1,000.'],
    };
  },
};
