/**
 * Privilege rings (seed API 6). Where each field sits stays in profile_fields.ring — a default ring's name, or
 * `custom:<rings.id>` for a custom ring — so a field is in exactly one ring and there is one place to read it.
 * This table holds what a custom ring is (its name and who it admits); ring_settings counts every change of a
 * person's rings, and that version names their settings in the policy engine's ability cache.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('rings', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('name_lower').notNullable();
    t.text('description');
    // Roles (policies/roles) and services (client_ids) the ring admits; each is still capped by its role's ceiling.
    t.jsonb('roles').notNullable().defaultTo('[]');
    t.jsonb('services').notNullable().defaultTo('[]');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.unique(['user_id', 'name_lower']);
  });

  await db.schema.createTable('ring_settings', (t) => {
    t.uuid('user_id').primary().references('id').inTable('users').onDelete('CASCADE');
    t.bigInteger('version').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}
