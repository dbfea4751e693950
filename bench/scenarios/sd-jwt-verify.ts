/**
 * Offline verification of a share (issue 14): how many SD-JWT VCs a third party verifies per second with nothing
 * but the issuer's JWKS and a status list fetched beforehand — the README's code (test/shares/verify-offline.ts),
 * signature, audience, expiry, disclosures and status bit. In this process, with no server: nothing here touches
 * the network or the database.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { IssuerJwk } from '../../src/crypto/issuer-keys.ts';
import { publicIssuerJwk } from '../../src/crypto/issuer-keys.ts';
import { issueShareCredential, signStatusList } from '../../src/features/shares/sd-jwt.ts';
import { verifyShare } from '../../test/shares/verify-offline.ts';
import type { Scenario } from '../lib/scenario.ts';

export const sdJwtVerify: Scenario = {
  name: 'sd-jwt-verify',
  title: 'Share verification, offline (micro-benchmark)',
  description: "A third party verifying age_over_18 shares with the published JWKS and status list (the README's code), in one process.",
  async run(ctx) {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const key = { ...jwk, kid: 'bench', alg: 'ES256', use: 'sig' } as IssuerJwk;
    const issuer = 'https://ringfence.example';
    const uri = `${issuer}/api/v1/status-lists/bench`;
    const now = new Date();
    const tokens = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        issueShareCredential(key, {
          issuer,
          clientId: 'svc_bench',
          jti: `bench-${i}`,
          issuedAt: now,
          expiresAt: new Date(now.getTime() + 600_000),
          status: { idx: i * 7, uri },
          claims: { age_over_18: true },
        }),
      ),
    );
    const list = await signStatusList(key, { issuer, uri, size: 65_536, revoked: [7, 700], ttlSeconds: 60 });
    const jwks = { keys: [publicIssuerJwk(key)] };
    const seconds = ctx.profile.quick ? 1 : 5;
    for (let i = 0; i < 200; i++) await verifyShare(tokens[i % tokens.length], jwks, list, 'svc_bench');
    const latencies: number[] = [];
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) {
      const t0 = performance.now();
      await verifyShare(tokens[n % tokens.length], jwks, list, 'svc_bench');
      latencies.push(performance.now() - t0);
      n++;
    }
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] * 1000);
    const perSecond = Math.round(n / elapsed);
    ctx.log(`  sd-jwt-verify: ${perSecond} verifications/s offline (p50 ${pct(0.5)} µs, p99 ${pct(0.99)} µs), one core`);
    return {
      notes: [
        `${perSecond} verifications per second on one core (p50 ${pct(0.5)} µs, p99 ${pct(0.99)} µs): ES256 signatures of the token and the 64 Ki-entry status list, disclosure digests, the status bit.`,
      ],
      extra: { verificationsPerSecond: perSecond, p50Us: pct(0.5), p99Us: pct(0.99), samples: n },
    };
  },
};
