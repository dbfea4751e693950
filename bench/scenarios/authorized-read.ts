/**
 * The headline: a service reads a person's profile through the data API — access token check, grant check,
 * policy decision, key unwrap, decryption, audit — against bare Koa + pg reading the same rows, and the framework
 * ceiling. Target: ≥ 70% of the Koa + pg baseline's throughput.
 *
 * Needs issue 5's pieces in the service: GET /api/v1/data/profile in openapi.yaml and the provider mounted at
 * /oidc. Grants and tokens are seeded through the provider's own models (Seeder.dataApiSessions).
 */
import { formatSpread, ratio } from '../lib/compare.ts';
import type { Environment } from '../lib/environment.ts';
import type { LoadRequest } from '../lib/load.ts';
import { Unavailable, type Scenario } from '../lib/scenario.ts';
import type { DataApiSession } from '../lib/seed.ts';
import { judge } from '../lib/targets.ts';

export const DATA_PROFILE_PATH = '/api/v1/data/profile';
/** Services seeded for the data API (the issue: 50), users' grants spread over them in turn. */
const SERVICES = 50;

/** Throws Unavailable, saying what is missing, until the service can answer the data API. */
async function assertDataApi(env: Environment): Promise<void> {
  const spec = await (await fetch(`${env.service.url}/openapi.yaml`)).text();
  if (!spec.includes(`\n  ${DATA_PROFILE_PATH}:`)) throw new Unavailable(`GET ${DATA_PROFILE_PATH} is not in openapi.yaml yet (issue 5)`);
  const discovery = await fetch(`${env.service.url}/oidc/.well-known/openid-configuration`);
  await discovery.arrayBuffer();
  if (discovery.status !== 200) throw new Unavailable('the OpenID provider is not mounted at /oidc yet (src/service.ts, issue 5)');
}

/** `count` users with a grant to one of the 50 seeded services and a data-API access token, once the API exists. */
export async function dataApiSessions(env: Environment, count: number): Promise<DataApiSession[]> {
  await assertDataApi(env);
  return env.seeder.dataApiSessions(count, SERVICES);
}

export function dataApiRequests(sessions: readonly { token: string }[]): LoadRequest[] {
  return sessions.map((s) => ({ path: DATA_PROFILE_PATH, headers: { authorization: `Bearer ${s.token}` } }));
}

export const authorizedRead: Scenario = {
  name: 'authorized-read',
  title: 'Authorized field read (data API)',
  description:
    `GET ${DATA_PROFILE_PATH} with a service access token (token + grant check, policy, decrypt, audit) vs bare ` +
    'Koa + pg reading the same profile rows, and vs the framework ceiling.',
  async run(ctx) {
    const env = await ctx.main();
    const sessions = await dataApiSessions(env, ctx.profile.spreadUsers);
    const results = await ctx.compare([
      {
        name: 'authorized-read',
        label: `GET ${DATA_PROFILE_PATH} (${sessions.length} users)`,
        role: 'subject',
        target: env.service,
        requests: dataApiRequests(sessions),
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
    const toPg = ratio(results, 'authorized-read', 'koa-pg');
    return {
      variants: results,
      ratios: [toPg, ratio(results, 'authorized-read', 'koa-constant')],
      targets: [judge('authorized-read-throughput', toPg.rps.median >= 0.7, formatSpread(toPg.rps, 3))],
    };
  },
};
