/**
 * The headline: a service reads a person's profile through the data API — access token check, grant check,
 * policy decision, key unwrap, decryption, audit — against the leanest whole promise written by hand (bare Koa + pg:
 * the token found by its hash, the same profile read in one row, one hash-chained audit row per request committed
 * durably, group-committed; bench/baselines/koa-pg-audited.ts), against bare Koa + pg reading the same rows, and
 * against the framework ceiling, all in the same interleaved rounds. Target (issue 19): ≥ 0.80 of the bare audited
 * read; its own ratio to the bare read says what the promise itself costs.
 *
 * Needs issue 5's pieces in the service: GET /api/v1/data/profile in openapi.yaml and the provider mounted at
 * /oidc. Grants and tokens are seeded through the provider's own models (Seeder.dataApiSessions).
 */
import { ratio } from '../lib/compare.ts';
import type { Environment } from '../lib/environment.ts';
import type { LoadRequest } from '../lib/load.ts';
import { freePort, startProcess } from '../lib/processes.ts';
import { bareReadVariants, Unavailable, type Scenario, type VariantResult } from '../lib/scenario.ts';
import type { DataApiSession } from '../lib/seed.ts';
import { leanSessions, verifyLeanChain } from '../lib/seed-lean.ts';
import { judgeRatio } from '../lib/targets.ts';

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

/**
 * What the bare audited baseline wrote: its whole chain verified (one row per answered request at least, every
 * hash following from the one before) and how many requests shared a commit. Throws when the chain is broken or
 * short: its throughput would then measure less than the promise.
 */
async function auditedChainNote(env: Environment, url: string, measured: VariantResult): Promise<string> {
  const answered = measured.rounds.reduce((n, r) => n + r.total - r.non2xx, 0);
  const chain = await verifyLeanChain(env.db);
  if (chain.brokenAt !== undefined) throw new Error(`the bare audited baseline's chain breaks at seq ${chain.brokenAt}`);
  if (chain.rows < answered)
    throw new Error(`the bare audited baseline answered ${answered} reads in its rounds but its chain holds ${chain.rows} rows`);
  const stats = (await (await fetch(`${url}/stats`)).json()) as { appends: number; rows: number };
  return (
    `The bare audited baseline's chain: ${chain.rows} rows, every hash verified, at least one per answered read ` +
    `(${answered} in the measured rounds); ${(stats.rows / Math.max(1, stats.appends)).toFixed(1)} rows per group commit on average.`
  );
}

export const authorizedRead: Scenario = {
  name: 'authorized-read',
  title: 'Authorized field read (data API)',
  description:
    `GET ${DATA_PROFILE_PATH} with a service access token (token + grant check, policy, decrypt, audit) vs bare ` +
    'Koa + pg doing the whole promise by hand (token by hash, the same profile in one row, a hash-chained audit row ' +
    'group-committed, fsync on), vs bare Koa + pg reading the same profile rows, and vs the framework ceiling.',
  async run(ctx) {
    const env = await ctx.main();
    const sessions = await dataApiSessions(env, ctx.profile.spreadUsers);
    const lean = await leanSessions(env.db, sessions);
    const port = await freePort();
    const audited = await startProcess({
      name: 'koa-pg-audited',
      script: 'bench/baselines/koa-pg-audited.ts',
      env: { PORT: String(port), DATABASE_URL: env.databaseUrl },
      port,
      readyPath: '/readyz',
      logDir: ctx.logDir,
    });
    try {
      const results = await ctx.compare([
        {
          name: 'authorized-read',
          label: `GET ${DATA_PROFILE_PATH} (${sessions.length} users)`,
          role: 'subject',
          target: env.service,
          requests: dataApiRequests(sessions),
        },
        {
          name: 'koa-pg-audited',
          label: 'bare Koa + pg: token by hash, the same profile in one row, chained audit row group-committed',
          role: 'baseline',
          target: audited,
          requests: lean.map((s) => ({ path: '/data/profile', headers: { authorization: `Bearer ${s.token}` } })),
        },
        ...bareReadVariants(
          env.koaPg,
          ctx.constant,
          sessions.map((s) => s.profileId),
        ),
      ]);
      const ratios = [
        ratio(results, 'authorized-read', 'koa-pg-audited'),
        ratio(results, 'authorized-read', 'koa-pg'),
        ratio(results, 'koa-pg-audited', 'koa-pg'),
        ratio(results, 'authorized-read', 'koa-constant'),
      ];
      const notes = [
        'koa-pg-audited / koa-pg is the price of the promise itself (a token, a durable chained audit row per read) ' +
          'paid by the leanest hand-written code: the limit of what the service can reach.',
        await auditedChainNote(env, audited.url, results.find((v) => v.name === 'koa-pg-audited')!),
      ];
      return { variants: results, ratios, targets: [judgeRatio('authorized-read-vs-audited', ratios)], notes };
    } finally {
      await audited.stop();
    }
  },
};
