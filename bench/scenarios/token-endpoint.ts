/**
 * The token endpoint, client credentials: the service's provider (mounted at /oidc inside the Ringfence app)
 * against bare oidc-provider with the same adapter, table and client registry (bench/baselines/oidc-bare.ts).
 * Target: ≥ 90% of the bare provider's throughput. Requests spread over the seeded services.
 */
import { formatSpread, ratio } from '../lib/compare.ts';
import type { LoadRequest } from '../lib/load.ts';
import { freePort, startProcess } from '../lib/processes.ts';
import { Unavailable, type Scenario } from '../lib/scenario.ts';
import type { SeedService } from '../lib/seed.ts';
import { judge } from '../lib/targets.ts';

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
  description: 'POST /oidc/token, grant_type=client_credentials, vs bare oidc-provider with the same adapter and client registry.',
  async run(ctx) {
    const env = await ctx.main();
    const real = await tokenPath(`${env.service.url}/oidc/.well-known/openid-configuration`);
    if (!real) throw new Unavailable('the OpenID provider is not mounted at /oidc yet (src/service.ts, issue 5)');
    const services = await env.seeder.ensureServices(SERVICES);
    const port = await freePort();
    const bare = await startProcess({
      name: 'oidc-bare',
      script: 'bench/baselines/oidc-bare.ts',
      env: { PORT: String(port), DATABASE_URL: env.databaseUrl },
      port,
      readyPath: '/.well-known/openid-configuration',
      logDir: ctx.logDir,
    });
    try {
      const barePath = (await tokenPath(`${bare.url}/.well-known/openid-configuration`))!;
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
          label: `bare oidc-provider, POST ${barePath}`,
          role: 'baseline',
          target: bare,
          requests: clientCredentials(barePath, services),
        },
      ]);
      const r = ratio(results, 'token', 'oidc-bare');
      return {
        variants: results,
        ratios: [r],
        targets: [judge('token-endpoint-throughput', r.rps.median >= 0.9, formatSpread(r.rps, 3))],
      };
    } finally {
      await bare.stop();
    }
  },
};
