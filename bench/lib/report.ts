/** The run's report: the JSON of record, the markdown table people read, and what the console prints. */
import type { MachineInfo } from './machine.ts';
import type { RunProfile, ScenarioResult, TargetResult, VariantResult } from './scenario.ts';
import { roundSpread, sig, type Spread } from './stats.ts';

interface MemoryReport {
  /** The main service process: RSS once seeded and idle, the highest sample under any load, and VmHWM at the end. */
  service: { idleKb: number | undefined; peakUnderLoadKb: number | undefined; highWaterKb: number | undefined };
}

export interface RunReport {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** A full run of every scenario with the full profile: only such a run replaces bench/RESULTS.md. */
  complete: boolean;
  quick: boolean;
  only: string[] | null;
  /** The command line's arguments, as given. */
  argv: string[];
  machine: MachineInfo;
  profile: RunProfile;
  scenarios: ScenarioResult[];
  targets: TargetResult[];
  memory: MemoryReport;
  /** The machine's 1-, 5- and 15-minute load averages when the run started and ended: other work sharing it. */
  loadAverage: { start: number[]; end: number[] };
  /** Paths of what this run wrote, relative to the repository. */
  files: { json: string; markdown: string; svg: string };
}

/** Rounded copies for the JSON: what the table shows, without float noise; per-round samples kept. */
export function forJson(report: RunReport): RunReport {
  const variant = (v: VariantResult): VariantResult => ({
    ...v,
    rps: roundSpread(v.rps),
    p50Ms: roundSpread(v.p50Ms),
    p99Ms: roundSpread(v.p99Ms),
    cpuUsPerRequest: roundSpread(v.cpuUsPerRequest, 3),
    pgCpuUsPerRequest: roundSpread(v.pgCpuUsPerRequest, 3),
    rounds: v.rounds.map((r) => ({
      ...r,
      rps: sig(r.rps),
      latencyMs: {
        p50: sig(r.latencyMs.p50),
        p90: sig(r.latencyMs.p90),
        p99: sig(r.latencyMs.p99),
        mean: sig(r.latencyMs.mean),
        max: sig(r.latencyMs.max),
      },
    })),
  });
  return {
    ...report,
    scenarios: report.scenarios.map((s) => ({
      ...s,
      variants: s.variants.map(variant),
      ratios: s.ratios.map((r) => ({ ...r, rps: roundSpread(r.rps, 3) })),
    })),
  };
}

const mib = (kb: number | undefined) => (kb === undefined ? '–' : (kb / 1024).toFixed(0));

function fmt(s: Spread, digits: number): string {
  if (!Number.isFinite(s.median)) return '–';
  return `${s.median.toFixed(digits)} <sub>${s.min.toFixed(digits)}–${s.max.toFixed(digits)}</sub>`;
}

const reqs = (s: Spread) => (Number.isFinite(s.median) ? `${Math.round(s.median)} <sub>${Math.round(s.min)}–${Math.round(s.max)}</sub>` : '–');

/** `410 + 95`: the medians of the process's and PostgreSQL's CPU time per request. */
function cpu(v: VariantResult): string {
  const n = (s: Spread) => (Number.isFinite(s.median) ? Math.round(s.median).toString() : '–');
  return `${n(v.cpuUsPerRequest)} + ${n(v.pgCpuUsPerRequest)}`;
}

function variantTable(variants: readonly VariantResult[]): string[] {
  const lines = [
    '| variant | role | req/s | p50 ms | p99 ms | CPU µs/req: process + PostgreSQL | RSS idle → peak MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const v of variants) {
    const errors = v.non2xx + v.errors > 0 ? ` (${v.non2xx} non-2xx, ${v.errors} errors)` : '';
    lines.push(
      `| ${v.label}${errors} | ${v.role} | ${reqs(v.rps)} | ${fmt(v.p50Ms, 2)} | ${fmt(v.p99Ms, 2)} | ${cpu(v)} | ${mib(v.rssIdleKb)} → ${mib(v.rssPeakKb)} |`,
    );
  }
  return lines;
}

/** `fsync on, synchronous_commit on, full_page_writes on`, as the server said; older runs did not record it. */
function durability(m: MachineInfo): string {
  if (!m.durability) return 'settings not recorded';
  return Object.entries(m.durability)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

export function markdown(report: RunReport, svgLink: string): string {
  const m = report.machine;
  const p = report.profile;
  const out: string[] = [];
  out.push('# Ringfence benchmark results', '');
  if (!report.complete) {
    out.push(
      `> **Partial run** (\`${report.argv.join(' ')}\`): a smoke check, not numbers to compare. ` +
        'Only a full `npm run bench` replaces bench/RESULTS.md.',
      '',
    );
  }
  out.push(
    `Run of ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${duration(report.seconds)}, commit \`${m.commit}\`${m.dirty ? ' with uncommitted changes' : ''}.`,
    '',
    `**Machine:** ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}. **Software:** Node.js ${m.node}, PostgreSQL ${m.postgres} ` +
      `(throwaway server with production durability: ${durability(m)}), autocannon ${m.autocannon}.`,
    '',
    `**Method:** the service runs in production mode in its own process; each load runs autocannon in a process of its own ` +
      `(${p.connections} connections, ${p.durationSec} s per round, ${p.rounds} rounds, after a ${p.warmupSec} s warm-up), every ` +
      'variant of a scenario A/B interleaved with its baselines in the same rounds (order reversed every other round). Numbers are the ' +
      'median of the rounds with the min–max in small print; a ratio is taken round by round. Load generator, service and PostgreSQL ' +
      `share the machine, so absolute numbers move ±20–30% between runs: read the ratios. Main database: ${p.users} users with every ` +
      'writable profile field set (sealed per profile), seeded through the service’s own API and repository functions. ' +
      'CPU µs/req is the CPU time the serving process and the PostgreSQL server (postmaster and backends) used per completed ' +
      'request over the round (from /proc): a cost that, unlike throughput, hardly moves when other work shares the machine.',
    '',
    `**Load on the machine** (1/5/15-minute load averages; ${m.cores} cores): ${report.loadAverage.start.map((l) => l.toFixed(2)).join(' / ')} at the start, ` +
      `${report.loadAverage.end.map((l) => l.toFixed(2)).join(' / ')} at the end${Math.max(...report.loadAverage.start, ...report.loadAverage.end) > m.cores ? ' — other work shared the machine, so throughput is lower and noisier than on a quiet one' : ''}.`,
    '',
    '## Targets',
    '',
    '| target | measured | verdict |',
    '| --- | --- | --- |',
  );
  for (const t of report.targets) {
    const verdict = t.status === 'met' ? '✅ met' : t.status === 'not met' ? '❌ not met' : `not measured${t.note ? `: ${t.note}` : ''}`;
    out.push(`| ${t.description} | ${t.measured ?? '–'} | ${verdict} |`);
  }
  out.push('', '## Ratios', '', `![Throughput ratios to baselines](${svgLink})`, '');
  const ratioRows = report.scenarios.flatMap((s) => s.ratios.map((r) => ({ s, r })));
  if (ratioRows.length > 0) {
    out.push('| scenario | ratio (throughput) | median | min–max |', '| --- | --- | ---: | ---: |');
    for (const { s, r } of ratioRows)
      out.push(`| ${s.name} | ${r.name} | ${r.rps.median.toFixed(2)} | ${r.rps.min.toFixed(2)}–${r.rps.max.toFixed(2)} |`);
    out.push('');
  }
  out.push('## Scenarios', '');
  for (const s of report.scenarios) {
    out.push(`### ${s.title} (\`${s.name}\`)`, '', s.description, '');
    if (s.status !== 'ok') {
      out.push(`**${s.status === 'unavailable' ? 'Not available' : 'Failed'}:** ${s.reason ?? ''}`, '');
      continue;
    }
    if (s.variants.length > 0) out.push(...variantTable(s.variants), '');
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.notes.length > 0) out.push('');
    if (s.name === 'policy' && Array.isArray(s.extra?.cases)) {
      out.push('| case (synthetic catalogue) | p50 µs | p99 µs | mean µs |', '| --- | ---: | ---: | ---: |');
      for (const c of s.extra.cases as { name: string; p50Us?: number; p99Us?: number; meanUs?: number }[]) {
        out.push(`| ${c.name} | ${c.p50Us ?? '–'} | ${c.p99Us ?? '–'} | ${c.meanUs ?? '–'} |`);
      }
      out.push('');
    }
  }
  const mem = report.memory.service;
  out.push(
    '## Memory',
    '',
    `Main service process (VmRSS from /proc): ${mib(mem.idleKb)} MiB idle after seeding, ${mib(mem.peakUnderLoadKb)} MiB at most under load, ` +
      `${mib(mem.highWaterKb)} MiB high-water mark (VmHWM) at the end of the run. Per-scenario figures are in the tables above.`,
    '',
    `Reproduce with \`npm run bench\`; the numbers of this run are in \`${report.files.json}\`.`,
    '',
  );
  return out.join('\n');
}

/** The console summary: one line per variant and per target. */
export function summary(report: RunReport): string {
  const lines: string[] = [''];
  for (const s of report.scenarios) {
    lines.push(`${s.name} — ${s.status === 'ok' ? s.title : `${s.status}: ${s.reason}`}`);
    for (const v of s.variants) {
      lines.push(
        `  ${v.name.padEnd(24)} ${String(Math.round(v.rps.median)).padStart(7)} req/s (${Math.round(v.rps.min)}–${Math.round(v.rps.max)})` +
          `  p50 ${v.p50Ms.median.toFixed(2)} ms  p99 ${v.p99Ms.median.toFixed(2)} ms  CPU/req ${cpu(v)} µs`,
      );
    }
    for (const r of s.ratios) lines.push(`  ${r.name.padEnd(40)} ×${r.rps.median.toFixed(2)} (${r.rps.min.toFixed(2)}–${r.rps.max.toFixed(2)})`);
  }
  lines.push('', 'targets:');
  for (const t of report.targets)
    lines.push(`  [${t.status}] ${t.description}${t.measured ? ` — ${t.measured}` : ''}${t.note ? ` (${t.note})` : ''}`);
  return lines.join('\n');
}
