/**
 * Append-only, hash-chained audit log. Each event's hash covers the previous event's hash, so removing or editing
 * a row breaks every hash after it; `verifyAuditChain` finds the first broken link.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable, RunStatement } from '../store/db.ts';
import { statementsOf, withTransaction } from '../store/db.ts';
import { sha256Hex } from '../crypto/tokens.ts';

export const GENESIS_HASH = '0'.repeat(64);
/** The advisory lock that serializes writers of the chain, in every process. */
const CHAIN_LOCK = 0x52494e47;

export interface AuditInput {
  action: string;
  /** `user:<id>`, `service:<client_id>`, `operator`, or `anonymous`. */
  actor: string;
  /** Whose data the event concerns: `user:<id>`. */
  subject?: string | undefined;
  clientIp?: string | undefined;
  /** Facts about the event. Never a secret: no password, token, code or key. */
  data?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor: string;
  subject: string | null;
  client_ip: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** JSON with object keys sorted, so the same event always hashes the same. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** What an event's hash covers after the previous hash. */
function canonicalEvent(row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  return canonical({
    id: row.id,
    at: row.at,
    action: row.action,
    actor: row.actor,
    subject: row.subject,
    client_ip: row.client_ip,
    data: row.data,
  });
}

function eventHash(prevHash: string, row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  return sha256Hex(`${prevHash}\n${canonicalEvent(row)}`);
}

/** Appends one event. Runs inside the caller's transaction when given one, so the event commits with the change. */
export async function recordAudit(q: Queryable, input: AuditInput): Promise<void> {
  await recordAuditEvents(q, [input]);
}

/**
 * Extends the chain by the events given as eight arrays (one element per event, in order) in one statement: the head
 * is read and every hash computed by PostgreSQL (sha256 of `<previous hash>\n<canonical event>`, exactly what
 * eventHash computes and verifyAuditChain checks), so the chain's lock is held for this one round trip and the
 * commit. It must run after the lock is taken, in a later statement: each statement reads what was committed when
 * it started. Its text never changes with the number of events, so it is a named statement, planned once per
 * connection.
 */
const APPEND_SQL = `
with recursive
  input as (
    select * from unnest(?::uuid[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
      with ordinality as i(id, at, action, actor, subject, client_ip, data, canonical, n)
  ),
  chain (n, prev_hash, hash) as (
    select 0::bigint, head.hash, head.hash
      from (select coalesce((select hash from audit_events order by seq desc limit 1), ?) as hash) head
    union all
    select i.n, c.hash, encode(sha256(convert_to(c.hash || E'\\n' || i.canonical, 'UTF8')), 'hex')
      from chain c join input i on i.n = c.n + 1
  )
insert into audit_events (id, at, action, actor, subject, client_ip, data, prev_hash, hash)
select i.id, i.at, i.action, i.actor, i.subject, i.client_ip, i.data::jsonb, c.prev_hash, c.hash
  from input i join chain c on c.n = i.n
 order by i.n`;

/**
 * The SQL expression that takes the chain's lock for the rest of the transaction, for a statement that must lock
 * rows of its own first (src/audit/queue.ts): one writer at a time extends the chain, in every process.
 */
export const TAKE_CHAIN_LOCK = `pg_advisory_xact_lock(${CHAIN_LOCK})`;

/** Takes the chain's lock for the rest of the transaction (TAKE_CHAIN_LOCK as a statement of its own). */
export async function lockAuditChain(run: RunStatement): Promise<void> {
  await run('rf_audit_lock', `select ${TAKE_CHAIN_LOCK}`, []);
}

/** Appends events in order; the transaction must hold the chain's lock, taken in an earlier statement. */
export async function appendAuditEvents(run: RunStatement, inputs: readonly AuditInput[]): Promise<void> {
  if (inputs.length === 0) return;
  const rows = inputs.map((input) => ({
    id: randomUUID(),
    at: new Date(),
    action: input.action,
    actor: input.actor,
    subject: input.subject ?? null,
    client_ip: input.clientIp ?? null,
    data: input.data ?? {},
  }));
  // seq is assigned in the order of the rows (order by n), so the chain reads back in this order.
  await run('rf_audit_append', APPEND_SQL, [
    rows.map((r) => r.id),
    rows.map((r) => r.at.toISOString()),
    rows.map((r) => r.action),
    rows.map((r) => r.actor),
    rows.map((r) => r.subject),
    rows.map((r) => r.client_ip),
    rows.map((r) => JSON.stringify(r.data)),
    rows.map((r) => canonicalEvent(r)),
    GENESIS_HASH,
  ]);
}

/**
 * Appends events in order, in one transaction (the caller's when given one): the chain's lock, then one statement
 * for all of them, whatever their number.
 */
export async function recordAuditEvents(q: Queryable, inputs: readonly AuditInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await withTransaction(q, async (trx) => {
    const run = statementsOf(trx);
    await lockAuditChain(run);
    await appendAuditEvents(run, inputs);
  });
}

export interface ChainVerdict {
  ok: boolean;
  checked: number;
  /** The first event whose hash does not match, when the chain is broken. */
  brokenAt?: number;
}

/** Recomputes every hash in order. */
export async function verifyAuditChain(q: Queryable): Promise<ChainVerdict> {
  const rows = (await q('audit_events').select('*').orderBy('seq', 'asc')) as AuditRow[];
  let prev = GENESIS_HASH;
  for (const [i, row] of rows.entries()) {
    const expected = eventHash(prev, { ...row, at: new Date(row.at) });
    if (row.prev_hash !== prev || row.hash !== expected) return { ok: false, checked: i, brokenAt: Number(row.seq) };
    prev = row.hash;
  }
  return { ok: true, checked: rows.length };
}

export interface AuditQuery {
  subject?: string;
  action?: string;
  limit?: number;
}

export async function listAuditEvents(q: Queryable, query: AuditQuery = {}): Promise<AuditRow[]> {
  const builder = q('audit_events').select('*').orderBy('seq', 'desc').limit(query.limit ?? 100);
  if (query.subject) builder.where('subject', query.subject);
  if (query.action) builder.where('action', query.action);
  return (await builder) as AuditRow[];
}
