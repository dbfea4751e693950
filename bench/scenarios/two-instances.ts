/**
 * Scale-out (issue 21): the authorized field read through a load balancer in front of two service instances on one
 * PostgreSQL, against the same balancer in front of one, on the same machine and the same rows. Both instances are
 * web-only (delivery is the worker instance's); the second is the same release with the same issuer and master key.
 * On a 2-core machine the instances, PostgreSQL, the balancer and the load generator share the cores, so the ratio
 * says what a second process buys when the CPU is already shared — not what a second machine would.
 */
import { ratio } from '../lib/compare.ts';
import { freePort, startProcess, type ManagedProcess } from '../lib/processes.ts';
import type { Scenario } from '../lib/scenario.ts';
import { dataApiRequests, dataApiSessions, DATA_PROFILE_PATH } from './authorized-read.ts';

export const twoInstances: Scenario = {
  name: 'two-instances',
  title: 'Two instances on one PostgreSQL (authorized read through a balancer)',
  description: `GET ${DATA_PROFILE_PATH} through a round-robin balancer in front of two service instances on one database vs the same balancer in front of one.`,
  async run(ctx) {
    const env = await ctx.main();
    const sessions = await dataApiSessions(env, ctx.profile.spreadUsers);
    const started: ManagedProcess[] = [];
    const balancer = async (label: string, upstreams: readonly ManagedProcess[]) => {
      const port = await freePort();
      const p = await startProcess({
        name: `balancer-${label}`,
        script: 'bench/baselines/balancer.ts',
        env: { PORT: String(port), UPSTREAMS: upstreams.map((u) => u.url).join(',') },
        port,
        readyPath: '/readyz',
        logDir: ctx.logDir,
      });
      started.push(p);
      return p;
    };
    try {
      const second = await env.startInstance('second', { outboxWorker: false });
      started.push(second);
      const one = await balancer('one', [env.service]);
      const two = await balancer('two', [env.service, second]);
      const requests = dataApiRequests(sessions);
      const results = await ctx.compare([
        { name: 'two-instances', label: `two instances behind the balancer (${sessions.length} users)`, role: 'subject', target: two, requests },
        { name: 'one-instance', label: 'one instance behind the same balancer', role: 'baseline', target: one, requests },
      ]);
      return {
        variants: results,
        ratios: [ratio(results, 'two-instances', 'one-instance')],
        notes: [
          "CPU per request and memory of these variants are the balancer's (the target process); the instances' own are not in them.",
          'Every read is checked and audited by whichever instance answers: a revocation through one is refused by the other on the next request (test/platform/two-instances.test.ts).',
        ],
      };
    } finally {
      for (const p of started.reverse()) await p.stop();
    }
  },
};
