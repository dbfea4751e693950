/**
 * The barcode reader needs no network: zxing-wasm fetches its .wasm from a CDN by default, and ours must load it
 * from node_modules. Each case runs a Node process in which the network is unreachable — fetch fails, TCP connects
 * fail — in every thread (the guard is preloaded with --import, which worker threads inherit), and every attempt is
 * written to a file. The first case shows the guard catches the library's default CDN fetch from a worker; the
 * second reads a licence photo with the service's decoder (which runs in its worker) with no attempt at all.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const GUARD = `
import { appendFileSync } from 'node:fs';
import net from 'node:net';
const record = (what) => appendFileSync(process.env.RF_OUTBOUND_LOG, what + '\\n');
globalThis.fetch = async (input) => {
  record('fetch ' + String(input && input.url ? input.url : input));
  throw new TypeError('network unreachable');
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  record('connect ' + JSON.stringify(args[0] && typeof args[0] === 'object' ? { host: args[0].host, port: args[0].port, path: args[0].path } : args[0]));
  if (args[0] && typeof args[0] === 'object' && args[0].path) return connect.apply(this, args);
  throw new Error('network unreachable');
};
`;

/** Runs `script` (and `extra.mjs` beside it, for a worker) in a process without network. */
function runOffline(script: string, extra = ''): { stdout: string; stderr: string; attempts: string[]; status: number | null } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rf-offline-'));
  const log = path.join(dir, 'outbound.log');
  writeFileSync(log, '');
  const guard = path.join(dir, 'guard.mjs');
  writeFileSync(guard, GUARD);
  const main = path.join(dir, 'main.mjs');
  writeFileSync(main, script);
  writeFileSync(path.join(dir, 'extra.mjs'), extra);
  const res = spawnSync(process.execPath, ['--import', pathToFileURL(guard).href, main], {
    cwd: ROOT,
    env: { ...process.env, RF_OUTBOUND_LOG: log },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { stdout: res.stdout, stderr: res.stderr, status: res.status, attempts: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

test('the guard works: zxing-wasm left to its defaults tries the CDN from a worker thread, and fails', (t) => {
  const reader = import.meta.resolve('zxing-wasm/reader');
  const out = runOffline(
    `
    import { Worker } from 'node:worker_threads';
    const w = new Worker(new URL('./extra.mjs', import.meta.url));
    await new Promise((resolve) => w.on('exit', resolve));
  `,
    `const z = await import(${JSON.stringify(reader)}); try { await z.readBarcodes(new Uint8Array([1, 2, 3])); } catch {}`,
  );
  t.true(
    out.attempts.some((a) => /^fetch https:\/\/.*zxing_reader\.wasm/.test(a)),
    `expected a recorded CDN fetch, got ${JSON.stringify(out.attempts)}; stderr ${out.stderr.slice(-800)}`,
  );
});

test("with the network unreachable, the service's decoder reads a tilted licence photo and tries no connection", (t) => {
  const barcode = new URL('../../src/features/credentials/barcode.ts', import.meta.url).href;
  const fixtures = new URL('./fixtures.ts', import.meta.url).href;
  const out = runOffline(`
    import { decodePdf417 } from ${JSON.stringify(barcode)};
    import { aamvaPayload, cardBack, JANE, photograph } from ${JSON.stringify(fixtures)};
    const payload = aamvaPayload(JANE, { version: 8 });
    const read = await decodePdf417(await photograph(await cardBack(payload), { tilt: 9 }));
    process.stdout.write(JSON.stringify({ decoded: read.payload === payload }));
  `);
  t.is(out.status, 0, out.stderr.slice(-1500));
  t.deepEqual(JSON.parse(out.stdout), { decoded: true });
  t.deepEqual(out.attempts, [], 'no fetch and no TCP connection was attempted');
});
