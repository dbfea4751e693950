/**
 * The token endpoint, client credentials: the service's provider (mounted at /oidc inside the Ringfence app)
 * against bare oidc-provider with the same adapter, table and client registry (bench/baselines/oidc-bare.ts), and
 * against bare oidc-provider on its own in-memory adapter, the ceiling of any adapter, in the same rounds.
 * Target (issue 19): ≥ 0.95 of the bare provider with the same adapter. Requests spread over the seeded services.
 */
import { ratio } from '../lib/compare.ts';
import type { LoadRequest } from '../lib/load.ts';
import { freePort, startProcess } from '../lib/processes.ts';
import { Unavailable, type Scenario } from '../lib/scenario.ts';
import type { SeedService } from '../lib/seed.ts';
import { judgeRatio } from '../lib/targets.ts';

const SERVICES = 50;

/** The token endpoint's path from a provider's discovery document, or undefined when there is none. */
async function tokenPath(discoveryUrl: string): Promise<string | undefined> {
  const res = await fetch(discoveryUrl);
  if (res.status !== 200) {
    await res.arrayBuffer();
    return undefined;
  }
  const doc = (await res.json()) as { token_endpoint?: string };
  return doc.token_endpoint ? new URL(doc.token_endpoint).pathname : undefined;
}

function clientCredentials(path: string, services: readonly SeedService[]): LoadRequest[] {
  return services.map((s) => ({
    method: 'POST',
    path,
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  }));
}

export const tokenEndpoint: Scenario = {
  name: 'token-endpoint',
  title: 'Token endpoint (client credentials)',
  description:
    'POST /oidc/token, grant_type=client_credentials, vs bare oidc-provider with the same adapter and client registry, ' +
    'and vs bare oidc-provider on its in-memory adapter.',
  async run(ctx) {
    const env = await ctx.main();
    const real = await tokenPath(`${env.service.url}/oidc/.well-known/openid-configuration`);
    if (!real) throw new Unavailable('the OpenID provider is not mounted at /oidc yet (src/service.ts, issue 5)');
    const services = await env.seeder.ensureServices(SERVICES);
    const bareProcess = async (name: string, adapter: 'knex' | 'memory') => {
      const port = await freePort();
      return startProcess({
        name,
        script: 'bench/baselines/oidc-bare.ts',
        env: { PORT: String(port), DATABASE_URL: env.databaseUrl, OIDC_ADAPTER: adapter },
        port,
        readyPath: '/.well-known/openid-configuration',
        logDir: ctx.logDir,
      });
    };
    const bare = await bareProcess('oidc-bare', 'knex');
    const memory = await bareProcess('oidc-memory', 'memory').catch(async (err: unknown) => {
      await bare.stop();
      throw err;
    });
    try {
      const barePath = (await tokenPath(`${bare.url}/.well-known/openid-configuration`))!;
      const memoryPath = (await tokenPath(`${memory.url}/.well-known/openid-configuration`))!;
      const results = await ctx.compare([
        {
          name: 'token',
          label: `POST ${real} (${services.length} services)`,
          role: 'subject',
          target: env.service,
          requests: clientCredentials(real, services),
        },
        {
          name: 'oidc-bare',
          label: `bare oidc-provider, same adapter, POST ${barePath}`,
          role: 'baseline',
          target: bare,
          requests: clientCredentials(barePath, services),
        },
        {
          name: 'oidc-memory',
          label: `bare oidc-provider, in-memory adapter, POST ${memoryPath}`,
          role: 'ceiling',
          target: memory,
          requests: clientCredentials(memoryPath, services),
        },
      ]);
      const ratios = [ratio(results, 'token', 'oidc-bare'), ratio(results, 'token', 'oidc-memory'), ratio(results, 'oidc-bare', 'oidc-memory')];
      return {
        variants: results,
        ratios,
        targets: [judgeRatio('token-endpoint-throughput', ratios)],
        notes: ['oidc-bare / oidc-memory is what storing and finding in PostgreSQL costs the provider itself, whatever the app around it.'],
      };
    } finally {
      await memory.stop();
      await bare.stop();
    }
  },
};
