/**
 * How many services a profile change will be told to (issue 16, update-info's `services_told`), kept per person so
 * that the request does not read the person's grants (src/features/deliveries/subscriber-groups.ts).
 * - subscriber_groups: per person, the services it granted that can be sent webhooks, grouped by what decides
 *   whether one is told (role, scopes, named by a custom ring of the person) and counted, with the earliest expiry
 *   of a grant counted (`valid_until`). `generation` counts the changes of the person's grants — bumped in the
 *   statement or the transaction of every write of a grant (src/oidc/adapter.ts, src/oidc/grants.repo.ts) — and the
 *   groups are stamped with the generation, the registry's generation and the person's rings version they were
 *   computed at: they are used only while all three are still current and no counted grant has expired.
 * - subscriber_registry: one row, the generation of what decides for everyone whether a service can be sent
 *   webhooks (services: role, webhook URL, enabled; webhook_endpoints: enabled). Bumped by triggers, in the
 *   statement that changes them, because one of those writes (an endpoint disabled after 410 Gone or a run of
 *   failures) is the outbox worker's, and any operator's tool or a later migration may write the registry too: no
 *   write of it can forget to.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('subscriber_groups', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE');
    t.bigInteger('generation').notNullable().defaultTo(0);
    // The generations the groups were computed at; null until they are.
    t.bigInteger('computed_generation');
    t.bigInteger('registry_generation');
    t.bigInteger('rings_version');
    t.timestamp('valid_until', { useTz: true });
    // [{role, scopes, named, representative, services}], scopes as LIVE_GRANT_SCOPES's text.
    t.jsonb('groups');
    t.timestamp('computed_at', { useTz: true });
  });

  await db.schema.createTable('subscriber_registry', (t) => {
    t.smallint('id').primary();
    t.bigInteger('generation').notNullable().defaultTo(0);
  });
  await db.raw('alter table subscriber_registry add constraint subscriber_registry_one_row check (id = 1)');
  await db('subscriber_registry').insert({ id: 1, generation: 0 });

  await db.raw(`
    create function rf_subscriber_registry_changed() returns trigger
      language plpgsql
      as $fn$
    begin
      update subscriber_registry set generation = generation + 1 where id = 1;
      return null;
    end
    $fn$`);
  // A row updated is a change only when it alters what decides: not the last-used stamp, a counter of failures or
  // a new secret.
  await db.raw(`create trigger services_subscriber_registry_rows after insert or delete on services
    for each statement execute function rf_subscriber_registry_changed()`);
  await db.raw(`create trigger services_subscriber_registry_update after update on services
    for each row when (old.client_id is distinct from new.client_id or old.role is distinct from new.role
                       or (old.webhook_url is null) <> (new.webhook_url is null)
                       or (old.disabled_at is null) <> (new.disabled_at is null))
    execute function rf_subscriber_registry_changed()`);
  await db.raw(`create trigger webhook_endpoints_subscriber_registry_rows after insert or delete on webhook_endpoints
    for each statement execute function rf_subscriber_registry_changed()`);
  await db.raw(`create trigger webhook_endpoints_subscriber_registry_update after update on webhook_endpoints
    for each row when (old.client_id is distinct from new.client_id or (old.disabled_at is null) <> (new.disabled_at is null))
    execute function rf_subscriber_registry_changed()`);
}
