/**
 * Extending the audit chain becomes one statement: `rf_audit_append(events)` takes the chain's lock, reads the head
 * and appends the events with their hashes, so a writer that is not already in a transaction needs one round trip
 * (an implicit transaction: the statement commits on its own) where it needed four (begin, lock, append, commit).
 * It has to be a PL/pgSQL function: each statement of a volatile function reads what was committed when that
 * statement started, so the head is read after the lock is held, which one plain SQL statement cannot do.
 *
 * `events` holds each event's canonical text (src/audit/audit.ts canonicalEvent: the row's columns as JSON with
 * sorted keys), which is both what the hash covers and where the columns are read from, so nothing is sent twice:
 * hash = sha256_hex(prev_hash || '\n' || canonical), the genesis hash 64 zeros. src/audit/audit.ts verifyAuditChain
 * recomputes exactly this from the stored columns. The lock is the transaction-level advisory lock 1380535879
 * (0x52494e47, "RING"), the one every writer of the chain takes. A loop of single-row inserts: their plan is cached
 * for the session, which measured cheaper than one recursive statement planned for each batch.
 *
 * The unique index on `hash` goes: uniqueness was never what protects the chain (each hash covers the one before
 * it, and verifyAuditChain recomputes them all), and a unique index on random keys is the dearest part of an
 * append. `id` stays unique: it names an event.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create function rf_audit_append(events text[]) returns integer
      language plpgsql volatile
      as $fn$
    declare
      head text;
      canonical text;
      event jsonb;
      appended integer := 0;
    begin
      if coalesce(array_length(events, 1), 0) = 0 then
        return 0;
      end if;
      perform pg_advisory_xact_lock(1380535879);
      -- A statement of its own, after the lock: it reads the head the previous writer committed.
      select a.hash into head from audit_events a order by a.seq desc limit 1;
      head := coalesce(head, repeat('0', 64));
      foreach canonical in array events loop
        event := canonical::jsonb;
        insert into audit_events (id, at, action, actor, subject, client_ip, data, prev_hash, hash)
        values ((event ->> 'id')::uuid, (event ->> 'at')::timestamptz, event ->> 'action', event ->> 'actor',
                event ->> 'subject', event ->> 'client_ip', coalesce(event -> 'data', '{}'::jsonb), head,
                encode(sha256(convert_to(head || E'\\n' || canonical, 'UTF8')), 'hex'))
        returning hash into head;
        appended := appended + 1;
      end loop;
      return appended;
    end
    $fn$`);
  await db.schema.alterTable('audit_events', (t) => {
    t.dropUnique(['hash']);
  });
}
