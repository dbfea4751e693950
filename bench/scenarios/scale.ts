/**
 * Scale: the same read at growing database sizes (1k, 10k, 100k users with 24 sealed fields each) in a database
 * of its own, grown in place between measurements. Each size is measured A/B with bare Koa + pg reading the same
 * rows, so growth of PostgreSQL's own cost is told apart from the service's. Requests spread over users drawn
 * from the whole table. Target: authorized read p99 at 100k users within 20% of 1k users.
 *
 * The authorized read (data API) is used once it is available; until then the owner read — the same storage path:
 * token lookup, profile row, field rows, decryption — stands in, and the target is reported as not measured.
 */
import { formatSpread, ratio } from '../lib/compare.ts';
import type { Environment } from '../lib/environment.ts';
import type { LoadRequest } from '../lib/load.ts';
import { Unavailable, type Scenario, type VariantResult } from '../lib/scenario.ts';
import { roundSpread, sig, type Spread } from '../lib/stats.ts';
import { judge, notMeasured } from '../lib/targets.ts';
import { dataApiRequests, dataApiSessions, DATA_PROFILE_PATH } from './authorized-read.ts';

interface ReadPlan {
  kind: 'authorized-read' | 'owner-read';
  label: string;
  build(env: Environment, count: number): Promise<{ requests: LoadRequest[]; profileIds: string[] }>;
}

const AUTHORIZED: ReadPlan = {
  kind: 'authorized-read',
  label: `GET ${DATA_PROFILE_PATH}`,
  async build(env, count) {
    const sessions = await dataApiSessions(env, count);
    return { requests: dataApiRequests(sessions), profileIds: sessions.map((s) => s.profileId) };
  },
};

const OWNER: ReadPlan = {
  kind: 'owner-read',
  label: 'GET /api/v1/profile (owner read, standing in for the data API)',
  async build(env, count) {
    const sessions = await env.seeder.sessions(count);
    return {
      requests: sessions.map((s) => ({ path: '/api/v1/profile', headers: { authorization: `Bearer ${s.token}` } })),
      profileIds: sessions.map((s) => s.profileId),
    };
  },
};

interface Point {
  users: number;
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  baselineP99Ms: Spread;
  toBaseline: Spread;
}

export const scale: Scenario = {
  name: 'scale',
  title: 'Scale: read latency by database size',
  description: 'The authorized read (or the owner read until the data API exists) at each database size, A/B with bare Koa + pg on the same rows.',
  async run(ctx) {
    const env = await ctx.environment('scale');
    let plan = AUTHORIZED;
    let reason: string | undefined;
    const sizes = ctx.profile.scaleSizes;
    await env.seeder.ensureUsers(sizes[0]);
    try {
      await plan.build(env, 1);
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      plan = OWNER;
      reason = err.message;
      ctx.log(`  scale: ${reason}; measuring the owner read instead`);
    }

    const variants: VariantResult[] = [];
    const points: Point[] = [];
    for (const users of sizes) {
      await env.seeder.ensureUsers(users);
      const { requests, profileIds } = await plan.build(env, ctx.profile.spreadUsers);
      const results = await ctx.compare(
        [
          { name: `${plan.kind}@${users}`, label: `${plan.label}, ${users} users`, role: 'subject', target: env.service, requests },
          { name: `koa-pg@${users}`, label: `bare Koa + pg, same rows, ${users} users`, role: 'baseline', target: env.koaPg, requests: profileIds.map((id) => ({ path: `/read/${id}` })) },
        ],
        { rounds: ctx.profile.scaleRounds },
      );
      variants.push(...results);
      const [subject, baseline] = results;
      points.push({
        users,
        rps: roundSpread(subject.rps),
        p50Ms: roundSpread(subject.p50Ms),
        p99Ms: roundSpread(subject.p99Ms),
        baselineP99Ms: roundSpread(baseline.p99Ms),
        toBaseline: roundSpread(ratio(results, subject.name, baseline.name).rps),
      });
    }

    const first = points[0];
    const last = points[points.length - 1];
    const growth = last.p99Ms.median / first.p99Ms.median;
    const measured = `p99 ${first.p99Ms.median.toFixed(2)} ms at ${first.users} → ${last.p99Ms.median.toFixed(2)} ms at ${last.users} users (×${growth.toFixed(2)})`;
    const fullRange = first.users <= 1000 && last.users >= 100_000;
    const target =
      plan.kind !== 'authorized-read'
        ? notMeasured('scale-p99-flat', `the data API is not available (${reason}); owner read measured instead`, measured)
        : !fullRange
          ? notMeasured('scale-p99-flat', `sizes ${sizes.join(', ')} do not span 1k to 100k (quick run)`, measured)
          : judge('scale-p99-flat', growth <= 1.2, measured);
    return {
      variants,
      ratios: points.map((p, i) => ({
        name: `${variants[2 * i].name} / ${variants[2 * i + 1].name}`,
        of: variants[2 * i].name,
        to: variants[2 * i + 1].name,
        rps: p.toBaseline,
      })),
      targets: [target],
      notes: [
        `${plan.label}: ${measured}; bare Koa + pg p99 ${first.baselineP99Ms.median.toFixed(2)} → ${last.baselineP99Ms.median.toFixed(2)} ms.`,
      ],
      extra: { read: plan.kind, points, p99Growth: sig(growth, 3) },
    };
  },
};
