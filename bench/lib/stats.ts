/** Medians and spreads: every number the benchmark reports is the median of its rounds with the min–max beside it. */

export interface Spread {
  median: number;
  min: number;
  max: number;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** Rounds to `digits` significant digits, for reports (JSON keeps what the table shows, not float noise). */
export function sig(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

export function roundSpread(s: Spread, digits = 4): Spread {
  return { median: sig(s.median, digits), min: sig(s.min, digits), max: sig(s.max, digits) };
}
