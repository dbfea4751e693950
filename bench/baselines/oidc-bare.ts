/**
 * Baseline: bare oidc-provider — no Ringfence app around it — with the same storage adapter (src/oidc/adapter.ts,
 * the same table and services registry, so the same client authenticates) and the same configuration for the one
 * grant measured: client credentials, the data API as the only resource (opaque tokens), hashed client secrets.
 * Served by node:http on PORT from the provider's own Koa app, loopback only; its issuer is its own URL.
 *
 * With OIDC_ADAPTER=memory it stores nothing in PostgreSQL: the provider's own in-memory adapter, the ceiling of
 * any adapter, with the services registry's clients (the same metadata, read once at start) as static clients.
 *
 * Settings: PORT, DATABASE_URL, POOL_MAX (default 10, the service's knex pool size), OIDC_ADAPTER (`knex`, the
 * default, or `memory`).
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import knexFactory from 'knex';
import Provider, { errors, type Configuration } from 'oidc-provider';
import { hashToken, safeEqual } from '../../src/crypto/tokens.ts';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import { DATA_RESOURCE_PATH, STANDARD_SCOPES, TTL } from '../../src/oidc/provider.ts';
import { supportedScopes } from '../../src/oidc/scopes.ts';
import { findServiceClientMetadata } from '../../src/oidc/services.ts';
import { loadPolicies } from '../../src/policy/load.ts';

const port = Number(process.env.PORT ?? 0);
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}${DATA_RESOURCE_PATH}`;
const db = knexFactory({
  client: 'pg',
  connection: { connectionString: process.env.DATABASE_URL, application_name: 'bench-oidc-bare' },
  pool: { min: 0, max: Number(process.env.POOL_MAX ?? 10) },
});
// Signing keys of the algorithms the service offers (client metadata defaults to RS256); no token measured here
// is signed, but the provider validates client metadata against them.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const keys = [
  { ...rsa.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'bench-bare-rs256' },
  { ...ec.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench-bare-es256' },
];

const adapterKind = process.env.OIDC_ADAPTER ?? 'knex';
if (adapterKind !== 'knex' && adapterKind !== 'memory') throw new Error(`OIDC_ADAPTER=${adapterKind}: expected knex or memory`);

/** Every enabled service's client metadata, as the adapter would find it, for the in-memory provider. */
async function staticClients(): Promise<NonNullable<Configuration['clients']>> {
  const rows = (await db('services').whereNull('disabled_at').select('client_id')) as { client_id: string }[];
  const clients = [];
  for (const { client_id } of rows) clients.push((await findServiceClientMetadata(db, client_id))!);
  await db.destroy();
  return clients;
}

const configuration: Configuration = {
  ...(adapterKind === 'memory' ? { clients: await staticClients() } : { adapter: createAdapterClass(db) }),
  jwks: { keys: keys as never },
  // The scopes the service offers (services are registered with them), from the same policy files.
  scopes: [...new Set([...STANDARD_SCOPES, ...supportedScopes(loadPolicies())])],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  // Services are registered pairwise unless they ask otherwise (src/oidc/services.ts), so the provider must offer
  // it to accept their metadata; a client-credentials token names no subject, so the identifier is never computed.
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: async (_ctx, accountId, client) => hashToken(`${client.clientId}:${accountId}`),
  ttl: { ...TTL },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => (oneOf ? oneOf : resource),
      useGrantedResource: async () => false,
      async getResourceServerInfo(_ctx, indicator, client) {
        if (indicator !== resource) throw new errors.InvalidTarget(`the only resource is ${resource}`);
        const allowed = (client.scope ?? '').split(' ').filter((s) => s && s !== 'openid' && s !== 'offline_access');
        return { scope: allowed.join(' '), audience: resource, accessTokenFormat: 'opaque', accessTokenTTL: TTL.AccessToken };
      },
    },
  },
};

const provider = new Provider(issuer, configuration);
provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
  return Promise.resolve(typeof this.clientSecret === 'string' && safeEqual(this.clientSecret, hashToken(actual)));
} as never;

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
const stop = () => server.close(() => void (adapterKind === 'memory' ? Promise.resolve() : db.destroy()).then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
