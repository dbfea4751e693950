/**
 * Logins: argon2id verification dominates, so this reports logins per second per core and the server's peak
 * memory (each concurrent verification holds its own memory block), with the hash parameters read from a stored
 * hash. No baseline: the cost is the hash, on purpose.
 */
import os from 'node:os';
import type { Scenario } from '../lib/scenario.ts';
import { sig } from '../lib/stats.ts';

/** `$argon2id$v=19$m=19456,t=2,p=1$…` → its parameters. */
function hashParameters(phc: string): Record<string, string> {
  const [, algorithm, version, params] = phc.split('$');
  const out: Record<string, string> = { algorithm, version };
  for (const kv of (params ?? '').split(',')) {
    const [k, v] = kv.split('=');
    if (k && v) out[k] = v;
  }
  if (out.m) out.memory = `${sig(Number(out.m) / 1024, 3)} MiB`;
  return out;
}

export const login: Scenario = {
  name: 'login',
  title: 'Login (argon2id)',
  description: 'POST /api/v1/users/login with handle and password, spread over the users registered through the API.',
  async run(ctx) {
    const env = await ctx.main();
    const users = env.seeder.apiUsers;
    if (users.length === 0) throw new Error('no users were registered through the API');
    const [row] = (await env.db('users').where({ id: users[0].userId }).select('password_hash')) as { password_hash: string }[];
    const params = hashParameters(row.password_hash);
    const results = await ctx.compare(
      [
        {
          name: 'login',
          label: `POST /api/v1/users/login (${users.length} users)`,
          role: 'subject',
          target: env.service,
          requests: users.map((u) => ({
            method: 'POST',
            path: '/api/v1/users/login',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ handle: u.handle, password: u.password }),
          })),
        },
      ],
      { rounds: Math.max(2, ctx.profile.rounds - 2) },
    );
    const cores = os.availableParallelism();
    const rps = results[0].rps;
    return {
      variants: results,
      notes: [
        `argon2id parameters from a stored hash: m=${params.m} KiB (${params.memory}), t=${params.t}, p=${params.p}.`,
        `${sig(rps.median / cores, 3)} logins/s per core (${sig(rps.median, 3)} on ${cores} cores; @node-rs/argon2 hashes on libuv’s thread pool).`,
      ],
      extra: {
        hashParameters: params,
        loginsPerSecond: rps,
        loginsPerSecondPerCore: sig(rps.median / cores, 3),
        cores,
        rssPeakKb: results[0].rssPeakKb,
      },
    };
  },
};
