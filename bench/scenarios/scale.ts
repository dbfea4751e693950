/**
 * Scale: the same read at growing database sizes (1k, 10k, 100k users with every profile field sealed), each
 * size a database of its own with its own service (the main database is the 10k one), all sizes and their bare
 * Koa + pg baselines interleaved in the same rounds: on a shared machine the load of the moment then moves every
 * size alike, instead of deciding which size looked slow. Bare Koa + pg reads the same rows, so growth of
 * PostgreSQL's own cost is told apart from the service's. Requests spread over users drawn from the whole table.
 * Target: authorized read p99 at 100k users within 20% of 1k users.
 *
 * The authorized read (data API) is used once it is available; until then the owner read — the same storage path:
 * token lookup, profile row, field rows, decryption — stands in, and the target is reported as not measured.
 */
import { formatSpread, ratio } from '../lib/compare.ts';
import type { Environment } from '../lib/environment.ts';
import type { LoadRequest } from '../lib/load.ts';
import { Unavailable, type Scenario, type Variant } from '../lib/scenario.ts';
import { roundSpread, sig, spread, type Spread } from '../lib/stats.ts';
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
  description:
    'The authorized read (or the owner read until the data API exists) on databases of each size, every size and its bare ' +
    'Koa + pg baseline interleaved in the same rounds.',
  async run(ctx) {
    const sizes = ctx.profile.scaleSizes;
    // A database per size, so the sizes can be measured side by side in the same rounds (drift on a shared machine
    // then moves them together); the main database serves the size it already has.
    const envs: Environment[] = [];
    for (const users of sizes) {
      const env = users === ctx.profile.users ? await ctx.main() : await ctx.environment(`scale_${users}`);
      await env.seeder.ensureUsers(users);
      envs.push(env);
    }
    let plan = AUTHORIZED;
    let reason: string | undefined;
    try {
      await plan.build(envs[0], 1);
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      plan = OWNER;
      reason = err.message;
      ctx.log(`  scale: ${reason}; measuring the owner read instead`);
    }

    const all: Variant[] = [];
    for (const [i, users] of sizes.entries()) {
      const { requests, profileIds } = await plan.build(envs[i], ctx.profile.spreadUsers);
      all.push(
        { name: `${plan.kind}@${users}`, label: `${plan.label}, ${users} users`, role: 'subject', target: envs[i].service, requests },
        {
          name: `koa-pg@${users}`,
          label: `bare Koa + pg, same rows, ${users} users`,
          role: 'baseline',
          target: envs[i].koaPg,
          requests: profileIds.map((id) => ({ path: `/read/${id}` })),
        },
      );
    }
    const variants = await ctx.compare(all, { rounds: ctx.profile.scaleRounds });
    const points: Point[] = sizes.map((users, i) => {
      const [subject, baseline] = [variants[2 * i], variants[2 * i + 1]];
      return {
        users,
        rps: roundSpread(subject.rps),
        p50Ms: roundSpread(subject.p50Ms),
        p99Ms: roundSpread(subject.p99Ms),
        baselineP99Ms: roundSpread(baseline.p99Ms),
        toBaseline: roundSpread(ratio(variants, subject.name, baseline.name).rps),
      };
    });

    const first = points[0];
    const last = points[points.length - 1];
    const growth = last.p99Ms.median / first.p99Ms.median;
    // Round by round too: each round measured every size within seconds of the others.
    const perRound = variants[2 * (sizes.length - 1)].rounds.map((r, k) => r.latencyMs.p99 / variants[0].rounds[k].latencyMs.p99);
    const roundGrowth = spread(perRound);
    const measured =
      `p99 ${first.p99Ms.median.toFixed(2)} ms at ${first.users} → ${last.p99Ms.median.toFixed(2)} ms at ${last.users} users ` +
      `(×${growth.toFixed(2)}; round by round ${formatSpread(roundGrowth)})`;
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
        `p50 ${points.map((p) => `${p.p50Ms.median.toFixed(2)} ms at ${p.users}`).join(', ')}.`,
      ],
      extra: { read: plan.kind, points, p99Growth: sig(growth, 3), p99GrowthByRound: roundSpread(roundGrowth, 3) },
    };
  },
};
