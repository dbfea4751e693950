/**
 * Decode time per licence photo (issue 14): bench/credential-decode.ts in its own process reads generated,
 * tilted, blurred, JPEG-compressed licence photos with the service's decoder and reports the median and p95 per
 * photo. No target: the number is reported, for the next change of the decoder to be compared against.
 */
import path from 'node:path';
import { NODE, ROOT, baseEnv, spawnRegistered } from '../lib/processes.ts';
import type { Scenario } from '../lib/scenario.ts';

const SCRIPT = path.join(ROOT, 'bench/credential-decode.ts');
const TIMEOUT_MS = 5 * 60_000;

export const credentialDecode: Scenario = {
  name: 'credential-decode',
  title: 'Licence photo decoding (micro-benchmark)',
  description:
    'bench/credential-decode.ts in its own process: PDF417 + AAMVA decode time per generated licence photo, tilted up to 15°, median and p95.',
  async run(ctx) {
    let stdout = '';
    let stderr = '';
    const { child, exited } = spawnRegistered(NODE, [SCRIPT, '--json', ...(ctx.profile.quick ? ['--quick'] : [])], {
      cwd: ROOT,
      env: { ...baseEnv(), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    const { code, signal } = await exited;
    clearTimeout(killer);
    if (code !== 0)
      throw new Error(`bench/credential-decode.ts ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim().slice(-1500)}`);
    const line = stdout.trim().split('\n').at(-1) ?? '';
    const result = JSON.parse(line) as { photos: number; decoded: number; median_ms: number; p95_ms: number; max_ms: number };
    const summary = `${result.decoded}/${result.photos} photos decoded; per photo median ${result.median_ms} ms, p95 ${result.p95_ms} ms, max ${result.max_ms} ms`;
    ctx.log(`  credential-decode: ${summary}`);
    return { notes: [summary], extra: result };
  },
};
