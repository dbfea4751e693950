/**
 * The admission of releases: one statement, the audit batch's own transaction (src/audit/queue.ts), checks each
 * release's basis still live and appends the releases it admits to the audit chain.
 */
import { createHash } from 'node:crypto';
import type { AuditInput } from '../audit/audit.ts';
import type { AuditQueueOptions } from '../audit/queue.ts';
import type { RunStatement } from '../store/db.ts';
import type { BasisKind, BasisKinds } from './basis.ts';

/** services.last_used_at is bookkeeping for operators: a service read from again within this is not re-marked. */
const TOUCH_EVERY_MS = 1000;
const touchedAt = new Map<string, number>();

/** The services of a batch of releases not marked as used in the last second by this process (now marked). */
function servicesToTouch(inputs: readonly AuditInput[]): string[] {
  const now = Date.now();
  const clients = [...new Set(inputs.map((i) => i.data?.client_id).filter((c): c is string => typeof c === 'string'))].filter(
    (c) => now - (touchedAt.get(c) ?? 0) >= TOUCH_EVERY_MS,
  );
  for (const c of clients) touchedAt.set(c, now);
  // Bounded: a process that has served more services than this forgets the oldest marks, and re-marks sooner.
  while (touchedAt.size > 10_000) touchedAt.delete(touchedAt.keys().next().value!);
  return clients;
}

/**
 * The admission for AuditQueue: a release is recorded only while its basis is still live, and one statement
 * settles and records a whole batch:
 * - for each kind of basis, its liveness check (BasisKind.liveIds) locks the batch's live bases of that kind, in id
 *   order, before the append takes the chain's lock (rf_audit_append). Every revocation takes the basis's row lock
 *   before the chain's lock, the order this statement keeps (for a grant: revocation in src/features/access and
 *   consent replacement in src/oidc/interactions.ts; the provider's own revocations — RFC 7009, refresh token reuse,
 *   logout — delete the row without the chain's lock). So either the revocation committed first, and the release
 *   is refused (the check finds no row), or it commits only after the batch did: no release is ever recorded after
 *   its basis was revoked, by any path;
 * - it marks the services read from as used (services.last_used_at, each at most once a second per process). The
 *   update, a data-modifying WITH, runs at the end of the statement, after the chain's lock is taken, which every
 *   audit writer waits for, so a service row another transaction holds is skipped (SKIP LOCKED), never waited for.
 * The append runs in the projection of the one row the aggregate over the locked bases gives, so after every basis
 * is locked, and only for the events whose basis it found live. An event names its basis by its kind's id fact
 * (`grant_id`).
 */
export function admitReleases(kinds: BasisKinds): NonNullable<AuditQueueOptions['admit']> {
  const entries = Object.entries(kinds) as [string, BasisKind][];
  const held = entries.map(([, kind], i) => `held_${i} as materialized (${kind.liveIds})`);
  const keys = entries.map(([name], i) => `select '${name}:' || id as k from held_${i}`);
  // One statement per set of kinds, planned once per connection; named by a digest of the kinds, since PostgreSQL
  // cuts a statement name at 63 characters (two sets of kinds could then share a name).
  const name = `rf_admit_${createHash('sha256')
    .update(entries.map(([n]) => n).join(','))
    .digest('hex')
    .slice(0, 16)}`;
  const sql = `with ${held.join(',\n')},
     touched as (
       update services set last_used_at = current_timestamp
        where client_id in (select client_id from services where client_id = any(?::text[]) for update skip locked)
     ), live as (
       select coalesce(array_agg(k), '{}') as keys from (${keys.join(' union all ')}) h
     )
     select live.keys as live,
            rf_audit_append(array(select e.canonical from unnest(?::text[], ?::text[]) with ordinality as e(canonical, basis, n)
                                   where e.basis = any(live.keys) order by e.n)) as appended
       from live`;

  /** `<kind>:<id>` of the basis an event names, with its kind; undefined when it names none. */
  const basisOf = (input: AuditInput): { key: string; kind: BasisKind } | undefined => {
    for (const [kindName, kind] of entries) {
      const id = input.data?.[kind.idFact];
      if (typeof id === 'string') return { key: `${kindName}:${id}`, kind };
    }
    return undefined;
  };

  return async (run: RunStatement, inputs: readonly AuditInput[], events: readonly string[]) => {
    const bases = inputs.map(basisOf);
    const ids = entries.map(([, kind]) => [...new Set(inputs.map((i) => i.data?.[kind.idFact]).filter((v): v is string => typeof v === 'string'))]);
    // Each event's basis beside its text, so the statement need not parse the text to find it.
    const [row] = await run<{ live: string[] }>(name, sql, [...ids, servicesToTouch(inputs), events, bases.map((b) => b?.key ?? null)]);
    const live = new Set(row.live);
    return bases.map((b) =>
      b === undefined ? new Error('a release names no basis: it cannot be admitted') : live.has(b.key) ? undefined : b.kind.refused(),
    );
  };
}
