/**
 * The ratio chart, hand-written SVG: one horizontal bar per ratio (median), a whisker for the min–max of the
 * rounds, a line at 1.0 (as fast as the baseline) and a marker at a target where one applies.
 */
import type { RatioResult, ScenarioResult } from './scenario.ts';
import { ratioThresholds } from './targets.ts';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function ratioChart(scenarios: readonly ScenarioResult[], title: string): string {
  const rows: { scenario: string; r: RatioResult }[] = scenarios.flatMap((s) => s.ratios.map((r) => ({ scenario: s.name, r })));
  const labelW = 330;
  const plotW = 420;
  const rowH = 24;
  const top = 48;
  const width = labelW + plotW + 70;
  const height = top + Math.max(1, rows.length) * rowH + 40;
  const finiteMax = Math.max(1.2, ...rows.map((x) => x.r.rps.max).filter((v) => Number.isFinite(v)));
  const xMax = Math.ceil(finiteMax * 4) / 4;
  const thresholds = ratioThresholds();
  const x = (v: number) => labelW + (Math.max(0, Math.min(v, xMax)) / xMax) * plotW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="36" fill="#555">throughput ÷ baseline, median of the rounds; whiskers: min–max; dashed: target</text>`,
  );
  // At most ~8 labelled gridlines, however far a whisker reaches: labels 0.25 apart collide past 2.
  const step = xMax <= 2 ? 0.25 : xMax <= 4 ? 0.5 : 1;
  for (let t = 0; t <= xMax + 1e-9; t += step) {
    const gx = x(t).toFixed(1);
    const major = Math.abs(t - Math.round(t)) < 1e-9;
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + rows.length * rowH}" stroke="${major ? '#999' : '#e3e3e3'}"/>`);
    out.push(`<text x="${gx}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${t.toFixed(2)}</text>`);
  }
  if (rows.length === 0) out.push(`<text x="${labelW}" y="${top + 16}" fill="#555">no ratios measured in this run</text>`);
  rows.forEach(({ scenario, r }, i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    const target = thresholds.get(r.name);
    const met = target === undefined ? undefined : r.rps.median >= target;
    const fill = met === undefined ? '#4a78b5' : met ? '#3a9a5b' : '#c8553d';
    out.push(`<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end">${esc(`${scenario}: ${r.name}`)}</text>`);
    if (Number.isFinite(r.rps.median)) {
      out.push(
        `<rect x="${labelW}" y="${y + 5}" width="${(x(r.rps.median) - labelW).toFixed(1)}" height="${rowH - 10}" fill="${fill}" opacity="0.85"/>`,
      );
      out.push(`<line x1="${x(r.rps.min).toFixed(1)}" y1="${mid}" x2="${x(r.rps.max).toFixed(1)}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`);
      for (const v of [r.rps.min, r.rps.max])
        out.push(`<line x1="${x(v).toFixed(1)}" y1="${mid - 4}" x2="${x(v).toFixed(1)}" y2="${mid + 4}" stroke="#222" stroke-width="1.5"/>`);
      out.push(`<text x="${(x(r.rps.max) + 6).toFixed(1)}" y="${mid + 4}" fill="#222">${r.rps.median.toFixed(2)}</text>`);
    }
    if (target !== undefined) {
      out.push(
        `<line x1="${x(target).toFixed(1)}" y1="${y + 1}" x2="${x(target).toFixed(1)}" y2="${y + rowH - 1}" stroke="#000" stroke-dasharray="3,2" stroke-width="1.5"/>`,
      );
    }
  });
  out.push('</svg>', '');
  return out.join('\n');
}
