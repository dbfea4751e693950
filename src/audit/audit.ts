/**
 * Append-only, hash-chained audit log. Each event's hash covers the previous event's hash, so removing or editing
 * a row breaks every hash after it; `verifyAuditChain` finds the first broken link.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable, RunStatement } from '../store/db.ts';
import { statementsOf } from '../store/db.ts';
import { sha256Hex } from '../crypto/tokens.ts';

/** The chain of events without a subject (an operator's, an anonymous caller's); a person's chain is their subject. */
export const SYSTEM_CHAIN = 'system';

/** The previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

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
  const object = value as Record<string, unknown>;
  // Keys in UTF-16 code unit order (sort's own), undefined values left out, as JSON.stringify leaves them out.
  let out = '';
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined) continue;
    out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${canonical(v)}`;
  }
  return `{${out}}`;
}

/**
 * What an event's hash covers after the previous hash: canonical() of the row's columns, written out for the
 * shape every event has (its keys in sorted order), which runs once per disclosure; any other shape takes the
 * general path, so the text is the same either way.
 */
function canonicalEvent(row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  const { id, at, action, actor, subject, client_ip, data } = row;
  const text = (v: unknown) => v === null || typeof v === 'string';
  if (
    at instanceof Date &&
    typeof id === 'string' &&
    typeof action === 'string' &&
    typeof actor === 'string' &&
    text(subject) &&
    text(client_ip) &&
    data !== undefined
  ) {
    return `{"action":${JSON.stringify(action)},"actor":${JSON.stringify(actor)},"at":${JSON.stringify(at.toISOString())},"client_ip":${JSON.stringify(client_ip)},"data":${canonical(data)},"id":${JSON.stringify(id)},"subject":${JSON.stringify(subject)}}`;
  }
  return canonical({ id, at, action, actor, subject, client_ip, data });
}

/** An event's hash: its canonical text after the previous hash (what rf_audit_append computes). */
export function eventHash(prevHash: string, row: Omit<AuditRow, 'seq' | 'hash' | 'prev_hash'>): string {
  return sha256Hex(`${prevHash}\n${canonicalEvent(row)}`);
}

/** Appends one event. Runs inside the caller's transaction when given one, so the event commits with the change. */
export async function recordAudit(q: Queryable, input: AuditInput): Promise<void> {
  await recordAuditEvents(q, [input]);
}

/**
 * A time-ordered event id (RFC 9562 uuid v7: 48 bits of Unix milliseconds, then random bits), so the `id` index of
 * the chain grows at one end. Built on randomUUID's v4 (its pooled randomness): the timestamp over its first 48
 * bits, and the version nibble set to 7; the variant bits stay as v4 has them.
 */
function eventId(now = Date.now()): string {
  const random = randomUUID();
  const ms = now.toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${random.slice(15)}`;
}

/**
 * Events as rf_audit_append takes them (migrations/009_audit_append.ts): each event's canonical text, which its
 * hash covers after the previous hash (what eventHash computes) and from which the function reads its columns.
 */
export function auditEventTexts(inputs: readonly AuditInput[]): string[] {
  const at = new Date();
  return inputs.map((input) =>
    canonicalEvent({
      id: eventId(at.getTime()),
      at,
      action: input.action,
      actor: input.actor,
      subject: input.subject ?? null,
      client_ip: input.clientIp ?? null,
      data: input.data ?? {},
    }),
  );
}

/**
 * Appends events in order, in one statement: rf_audit_append takes the chain's lock, reads the head after it and
 * computes every hash in PostgreSQL, so the lock is held for this one round trip and the commit. In a caller's
 * transaction (statementsOf) the events commit with the change; on a connection of its own (runStatement) the
 * statement is its own transaction. seq follows the order of `inputs`.
 */
export async function appendAuditEvents(run: RunStatement, inputs: readonly AuditInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await run('rf_audit_append', 'select rf_audit_append(?::text[]) as appended', [auditEventTexts(inputs)]);
}

/** Appends events in order, in the caller's transaction when given one: one statement whatever their number. */
export async function recordAuditEvents(q: Queryable, inputs: readonly AuditInput[]): Promise<void> {
  await appendAuditEvents(statementsOf(q), inputs);
}

export interface AuditQuery {
  subject?: string;
  action?: string;
  limit?: number;
}

export async function listAuditEvents(q: Queryable, query: AuditQuery = {}): Promise<AuditRow[]> {
  const builder = q('audit_events')
    .select('*')
    .orderBy('seq', 'desc')
    .limit(query.limit ?? 100);
  if (query.subject) builder.where('subject', query.subject);
  if (query.action) builder.where('action', query.action);
  return (await builder) as AuditRow[];
}
