/**
 * The targets of issue 6, judged by the run itself and reported as met or not (a missed target never fails the
 * run). Each is judged by one scenario; a target whose scenario could not run is "not measured", with why.
 */
import type { TargetResult, TargetStatus } from './scenario.ts';

export interface TargetDef {
  id: string;
  scenario: string;
  description: string;
}

export const TARGETS: readonly TargetDef[] = [
  { id: 'authorized-read-throughput', scenario: 'authorized-read', description: 'authorized field read ≥ 70% of bare Koa + pg throughput' },
  { id: 'policy-cached-p99', scenario: 'policy', description: 'cached policy decision p99 < 50 µs for 200 fields' },
  { id: 'token-endpoint-throughput', scenario: 'token-endpoint', description: 'token endpoint ≥ 90% of bare oidc-provider throughput' },
  { id: 'scale-p99-flat', scenario: 'scale', description: 'authorized read p99 at 100k users within 20% of 1k users' },
];

/** A verdict for target `id`: met when `ok`, with the measured value as the table shows it. */
export function judge(id: string, ok: boolean, measured: string, note?: string): TargetResult {
  const def = TARGETS.find((t) => t.id === id);
  if (!def) throw new Error(`unknown target ${id}`);
  const status: TargetStatus = ok ? 'met' : 'not met';
  return { id, description: def.description, status, measured, ...(note ? { note } : {}) };
}

export function notMeasured(id: string, note: string, measured?: string): TargetResult {
  const def = TARGETS.find((t) => t.id === id);
  if (!def) throw new Error(`unknown target ${id}`);
  return { id, description: def.description, status: 'not measured', note, ...(measured ? { measured } : {}) };
}
