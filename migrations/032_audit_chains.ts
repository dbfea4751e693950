/**
 * One hash chain per person, and signed checkpoints over every chain's head (issue 21, Deliver 2;
 * docs/audit-chains.md).
 *
 * An event is appended to the chain of its subject (`user:<id>`), or to the system chain (`system`) when it has none,
 * under that chain's lock only — a transaction-level advisory lock on a 64-bit hash of the chain's key — instead of
 * the one global lock 1380535879 every append took (migrations/009_audit_append.ts). Each new row carries its `chain`
 * and its place in it (`chain_seq`, 1, 2, …); its `prev_hash` is the hash of the chain's previous row (the genesis
 * hash, 64 zeros, for the first), and its hash is computed exactly as before: sha256_hex(prev_hash || '\n' ||
 * canonical). The canonical text covers the subject, from which the chain follows, so a row moved to another chain
 * does not verify.
 *
 * `audit_chain_heads` holds each chain's newest row (its chain_seq and hash), written by the append in the same
 * statement as the rows, so it is always the committed head: the append reads it (one primary-key read per chain of
 * a batch, after the lock) and the checkpoint job (src/audit/checkpoints.ts) reads all of it without touching the
 * events. It is a cache of the chains, not a source of truth: `npm run audit -- verify` checks it against them.
 *
 * `audit_checkpoints`: one row per interval in which some chain grew (`interval_start` the key, so of many
 * instances only one writes a given interval): the Merkle tree's size and root over every head (RFC 9162's tree),
 * the link to the previous checkpoint, the JWS that signs them, and the leaves themselves (kept for the newest
 * checkpoints only, so an older one is its signed head alone).
 *
 * The rows written before this migration keep `chain` null: they stay one chain, the legacy chain, in `seq` order,
 * verified as before (src/audit/verify.ts); its last row is a leaf of every checkpoint. Nothing is rewritten, so no
 * hash changes.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('audit_events', (t) => {
    t.text('chain');
    t.bigInteger('chain_seq');
  });
  await db.schema.createTable('audit_chain_heads', (t) => {
    t.text('chain').primary();
    t.bigInteger('chain_seq').notNullable();
    t.text('hash').notNullable();
  });
  // The legacy chain stops growing here: its last row is its head, a leaf of every checkpoint from now on.
  await db.raw(
    `insert into audit_chain_heads (chain, chain_seq, hash)
     select '(legacy)', seq, hash from audit_events order by seq desc limit 1`,
  );
  await db.schema.createTable('audit_checkpoints', (t) => {
    t.timestamp('interval_start', { useTz: true }).primary();
    t.integer('tree_size').notNullable();
    t.text('root').notNullable();
    /** sha256 hex of the previous checkpoint's JWS; null for the first. */
    t.text('prev');
    t.text('kid').notNullable();
    t.text('jws').notNullable();
    /** The leaves (src/audit/merkle.ts encodeLeaves), null once the checkpoint is no longer among the newest kept. */
    t.binary('leaves');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.raw(`
    create or replace function rf_audit_append(events text[]) returns integer
      language plpgsql volatile
      as $fn$
    declare
      parsed jsonb[];
      keys text[];
      hashes text[] := '{}';
      seqs bigint[] := '{}';
      k text;
      head text;
      head_seq bigint;
      event jsonb;
      at integer := 1;
      i integer;
      n integer := coalesce(array_length(events, 1), 0);
    begin
      if n = 0 then
        return 0;
      end if;
      -- Each event parsed once; the batch's chains in key order.
      parsed := array(select e::jsonb from unnest(events) as e);
      keys := array(select distinct coalesce(p ->> 'subject', 'system') from unnest(parsed) as p order by 1);
      -- The chains locked once each, in key order — the one order every writer keeps, so two batches sharing chains
      -- cannot deadlock — and each one's head read after its lock: what its last writer committed.
      foreach k in array keys loop
        perform pg_advisory_xact_lock(hashtextextended('rf_audit_chain:' || k, 0));
        select h.hash, h.chain_seq into head, head_seq from audit_chain_heads h where h.chain = k;
        hashes := hashes || coalesce(head, repeat('0', 64));
        seqs := seqs || coalesce(head_seq, 0::bigint);
      end loop;
      -- The events in the batch's order, each after its own chain's head.
      for i in 1 .. n loop
        event := parsed[i];
        if array_length(keys, 1) > 1 then
          at := array_position(keys, coalesce(event ->> 'subject', 'system'));
        end if;
        head := hashes[at];
        seqs[at] := seqs[at] + 1;
        hashes[at] := encode(sha256(convert_to(head || E'\\n' || events[i], 'UTF8')), 'hex');
        insert into audit_events (id, at, action, actor, subject, client_ip, data, chain, chain_seq, prev_hash, hash)
        values ((event ->> 'id')::uuid, (event ->> 'at')::timestamptz, event ->> 'action', event ->> 'actor',
                event ->> 'subject', event ->> 'client_ip', coalesce(event -> 'data', '{}'::jsonb), keys[at], seqs[at],
                head, hashes[at]);
      end loop;
      insert into audit_chain_heads (chain, chain_seq, hash)
      select * from unnest(keys, seqs, hashes)
        on conflict (chain) do update set chain_seq = excluded.chain_seq, hash = excluded.hash;
      return n;
    end
    $fn$`);
}
