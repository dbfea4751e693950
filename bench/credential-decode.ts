/**
 * Decode-time micro-benchmark of the credential scanner (issue 14): licence photos made by the tests' generator
 * (test/credentials/fixtures.ts) — several jurisdictions and AAMVA versions, tilted 0–15° either way, scaled, blurred
 * and JPEG-compressed — each read by the service's own decoder (zxing-wasm from node_modules, sharp), then parsed.
 * Prints one JSON object: per-photo decode times (median, p95, max), the tries each took, and failures.
 *
 *   node bench/credential-decode.ts [--quick] [--json]
 */
import { parseArgs } from 'node:util';
import { parseAamva } from '../src/features/credentials/aamva.ts';
import { decodePdf417 } from '../src/features/credentials/barcode.ts';
import { aamvaPayload, cardBack, JANE, PIERRE, photograph, type Holder } from '../test/credentials/fixtures.ts';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });

const holders: Holder[] = [JANE, PIERRE, { ...JANE, region: 'NY', city: 'ALBANY', postal: '122070000', number: 'NY9988776' }];
const tilts = args.quick ? [-9, 4, 12] : [-15, -11, -7, -3, 0, 3, 7, 11, 15];
const versions = [1, 8, 10];

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const photos: { label: string; image: Buffer; payload: string }[] = [];
let n = 0;
for (const tilt of tilts) {
  const holder = holders[n % holders.length]!;
  const version = versions[n % versions.length]!;
  const payload = aamvaPayload(holder, { version });
  const image = await photograph(await cardBack(payload), {
    tilt,
    width: 1400 + (n % 3) * 300,
    blur: 0.8 + (n % 3) * 0.3,
    quality: 55 + (n % 4) * 10,
  });
  photos.push({ label: `${holder.region} v${version} ${tilt}°`, image, payload });
  n++;
}

// One decode first, unmeasured: instantiating the WebAssembly module is a one-time cost.
await decodePdf417(photos[0]!.image);
const times: number[] = [];
const rows: { photo: string; ms: number; tries: number; ok: boolean }[] = [];
for (const p of photos) {
  const started = performance.now();
  const out = await decodePdf417(p.image);
  const ok = out.payload === p.payload && parseAamva(out.payload).date_of_birth !== undefined;
  const ms = performance.now() - started;
  times.push(ms);
  rows.push({ photo: p.label, ms: Math.round(ms), tries: out.tries, ok });
}
const sorted = [...times].sort((a, b) => a - b);
const result = {
  scenario: 'credential decode',
  photos: photos.length,
  decoded: rows.filter((r) => r.ok).length,
  median_ms: Math.round(percentile(sorted, 50)),
  p95_ms: Math.round(percentile(sorted, 95)),
  max_ms: Math.round(sorted.at(-1)!),
  rows,
};
process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
