/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`, left in bench/.logs/cpu/): the functions with
 * the most self time, the most inclusive (self + callees) time, and self time by package, so a profile can be read
 * without Chrome DevTools.
 *
 *   node bench/cpu-summary.ts [file.cpuprofile …] [--top N] [--grep <text>] [--from S] [--to S] [--variant <name>]
 *
 * Without a file it reads every profile in bench/.logs/cpu/. `--grep` keeps only functions whose name or URL
 * contains the text (e.g. `--grep src/` for the product's own code); `--from`/`--to` keep only the samples taken
 * that many seconds after the process started (skip start-up and seeding, keep the load); `--variant` keeps only
 * the samples taken while that variant was loaded (bench/.logs/cpu/load-windows.json, written by the run).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = path.resolve(import.meta.dirname, '..');

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    grep: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    variant: { type: 'string' },
  },
});
const top = Number(args.top);

function where(frame: CallFrame): string {
  let url = frame.url.replace(/^file:\/\//, '');
  if (url.startsWith(ROOT)) url = path.relative(ROOT, url);
  url = url.replace(/^.*node_modules\//, '~/');
  return url ? `${url}:${frame.lineNumber + 1}` : '';
}

/** `~/pg/lib/client.js` → `pg`, `src/oidc/resource.ts` → `src/oidc`, `node:internal/…` → `node`. */
function packageOf(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return 'node (built-ins)';
  if (url.startsWith(ROOT)) return path.dirname(path.relative(ROOT, url));
  if (!url) return `(${frame.functionName || 'native'})`;
  return url;
}

/** The [start, end] µs windows in which `variant` was loaded, from the run's load-windows.json. */
function loadWindows(dir: string, variant: string): [number, number][] {
  const all = JSON.parse(readFileSync(path.join(dir, 'load-windows.json'), 'utf8')) as { variant: string; startUs: number; endUs: number }[];
  const mine = all.filter((w) => w.variant === variant).map((w): [number, number] => [w.startUs, w.endUs]);
  if (mine.length === 0)
    throw new Error(`no load of ${variant} in ${dir}/load-windows.json (variants: ${[...new Set(all.map((w) => w.variant))].join(', ')})`);
  return mine;
}

function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Time per sample: the delta to the next sample (V8's own convention).
  const selfUs = new Map<number, number>();
  const fromUs = Number(args.from ?? 0) * 1e6;
  const toUs = args.to === undefined ? Infinity : Number(args.to) * 1e6;
  const windows = args.variant ? loadWindows(path.dirname(file), args.variant) : undefined;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (at < fromUs || at > toUs) continue;
    // Profile timestamps and process.hrtime are both CLOCK_MONOTONIC microseconds.
    if (windows && !windows.some(([a, b]) => profile.startTime + at >= a && profile.startTime + at <= b)) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleIds = new Set(
    profile.nodes.filter((n) => ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName)).map((n) => n.id),
  );
  const idle = [...idleIds].filter((id) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, id) => a + (selfUs.get(id) ?? 0), 0);

  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'}\t${where(f)}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    self.set(key(frame), (self.get(key(frame)) ?? 0) + us);
    packages.set(packageOf(frame), (packages.get(packageOf(frame)) ?? 0) + us);
    // Each function on the stack once, however deep its recursion.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }

  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const keep = (k: string) => !args.grep || k.includes(args.grep);
  const show = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title} (share of busy time)\n`);
    const rows = [...m.entries()]
      .filter(([k]) => keep(k) && !k.startsWith('(root)') && !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [k, us] of rows) {
      const [name, loc] = k.split('\t');
      process.stdout.write(`  ${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${name.slice(0, 48).padEnd(48)} ${loc}\n`);
    }
  };

  process.stdout.write(
    `${path.relative(process.cwd(), file)}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)}%)\n`,
  );
  show('self time by package', new Map([...packages].map(([k, v]) => [`${k}\t`, v])));
  show('self time by function', self);
  show('inclusive time by function', inclusive);
}

const files =
  positionals.length > 0
    ? positionals
    : readdirSync(path.join(ROOT, 'bench/.logs/cpu'))
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(ROOT, 'bench/.logs/cpu', f));
for (const f of files) summarise(f);
