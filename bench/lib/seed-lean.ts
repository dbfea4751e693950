/**
 * The tables of the bare audited baseline (bench/baselines/koa-pg-audited.ts), the leanest whole promise written by
 * hand: an opaque token found by its hash, the profile it reads in one row, and an audit log whose rows are
 * hash-chained. Each keyed by its primary key and indexed by nothing else; no policy, no decryption.
 *
 * Seeded with the product's own data: each profile row holds, for every field, the same sealed value, ring,
 * provenance and time as the product's field rows of that profile (copied from them, so it is exactly what the
 * product stores), and the tokens are issued for the same users the data API sessions read, each naming the same
 * service. The audit chain is extended by one statement per batch, `bench_lean_append(events)`: the chain's lock
 * (a transaction-level advisory lock of its own), the head read after it, every row's hash computed in PostgreSQL
 * — sha256(previous hash || event), 32 zero bytes before the first — the statement its own transaction.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { DataApiSession } from './seed.ts';

/** A token of the bare audited baseline and the profile it reads. */
export interface LeanSession {
  profileId: string;
  /** Opaque, 256 bits, base64url: what an `Authorization: Bearer` header carries. */
  token: string;
}

/** The chain's lock: "LEAN", apart from the product's. */
const CHAIN_LOCK = 0x4c45414e;

const SCHEMA = [
  `create table if not exists bench_lean_profiles (
     id uuid primary key,
     user_id uuid not null,
     fields jsonb not null)`,
  `create table if not exists bench_lean_tokens (
     hash bytea primary key,
     profile_id uuid not null references bench_lean_profiles (id),
     client_id text not null,
     expires_at timestamptz not null)`,
  `create table if not exists bench_lean_audit (
     seq bigint primary key,
     hash bytea not null,
     event text not null)`,
  `create or replace function bench_lean_append(events text[]) returns bigint
     language plpgsql volatile
     as $fn$
   declare
     head bytea;
     n bigint;
     e text;
   begin
     perform pg_advisory_xact_lock(${CHAIN_LOCK});
     -- A statement of its own, after the lock: it reads the head the previous writer committed.
     select a.seq, a.hash into n, head from bench_lean_audit a order by a.seq desc limit 1;
     n := coalesce(n, 0);
     head := coalesce(head, '\\x${'00'.repeat(32)}'::bytea);
     foreach e in array events loop
       n := n + 1;
       head := sha256(head || convert_to(e, 'UTF8'));
       insert into bench_lean_audit (seq, hash, event) values (n, head, e);
     end loop;
     return n;
   end
   $fn$`,
];

/** Token lifetime: longer than any run, as the data API sessions' tokens outlive their scenario. */
const TOKEN_TTL = "interval '2 hours'";

/**
 * The bare audited baseline's rows for the users of `sessions`: each one's profile copied into one row, and a
 * token of its own naming the same service. Returns the tokens in the order of `sessions`.
 */
export async function leanSessions(db: Knex, sessions: readonly DataApiSession[]): Promise<LeanSession[]> {
  for (const statement of SCHEMA) await db.raw(statement);
  const ids = [...new Set(sessions.map((s) => s.profileId))];
  // The product's field rows of these profiles, as they are: base64 of the sealed bytes (without encode's line
  // breaks), the ring, provenance and time of each.
  const { rowCount } = (await db.raw(
    `insert into bench_lean_profiles (id, user_id, fields)
     select p.id, p.user_id,
            jsonb_object_agg(f.field, jsonb_build_object(
              'value', translate(encode(f.value, 'base64'), E'\\n', ''), 'ring', f.ring, 'provenance', f.provenance,
              'updated_at', f.updated_at) order by f.field)
       from profiles p join profile_fields f on f.profile_id = p.id
      where p.id = any(?::uuid[])
      group by p.id, p.user_id
     on conflict (id) do update set fields = excluded.fields`,
    [ids],
  )) as { rowCount: number };
  if (rowCount !== ids.length) throw new Error(`bare audited baseline: copied ${rowCount} of ${ids.length} profiles`);
  const out: LeanSession[] = [];
  const rows: { hash: Buffer; profile_id: string; client_id: string; expires_at: Knex.Raw }[] = [];
  for (const s of sessions) {
    const token = randomBytes(32).toString('base64url');
    rows.push({
      hash: createHash('sha256').update(token).digest(),
      profile_id: s.profileId,
      client_id: s.clientId,
      expires_at: db.raw(`now() + ${TOKEN_TTL}`),
    });
    out.push({ profileId: s.profileId, token });
  }
  await db('bench_lean_tokens').insert(rows);
  await db.raw('analyze bench_lean_profiles, bench_lean_tokens');
  return out;
}

/** Rows of the chain read at a time when verifying it. */
const VERIFY_PAGE = 20_000;

/**
 * Walks the bare audited baseline's whole chain, recomputing every hash: the number of rows, and the seq of the
 * first row whose hash does not follow from the one before (undefined when none), so a run shows its baseline
 * really wrote a chained row per request.
 */
export async function verifyLeanChain(db: Knex): Promise<{ rows: number; brokenAt: number | undefined }> {
  let head = Buffer.alloc(32);
  let after = 0;
  let rows = 0;
  for (;;) {
    const page = (await db('bench_lean_audit').where('seq', '>', after).orderBy('seq').limit(VERIFY_PAGE).select('seq', 'hash', 'event')) as {
      seq: string;
      hash: Buffer;
      event: string;
    }[];
    if (page.length === 0) return { rows, brokenAt: undefined };
    for (const r of page) {
      const seq = Number(r.seq);
      const expected = createHash('sha256').update(head).update(r.event, 'utf8').digest();
      if (seq !== rows + 1 || !expected.equals(r.hash)) return { rows, brokenAt: seq };
      head = expected;
      rows += 1;
      after = seq;
    }
  }
}
