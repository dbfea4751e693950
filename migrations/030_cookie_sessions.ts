/**
 * A login whose tokens live in the console's HttpOnly cookies is marked: its refresh token renews only through the
 * cookie path (`session: cookie`), which holds it to the session's absolute limit. Presented as a body
 * `refresh_token` — a value lifted from the cookie jar — it is refused, so it can never become a token pair that
 * outlives that limit.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('sessions', (t) => {
    t.boolean('cookie_bound').notNullable().defaultTo(false);
  });
}
