/**
 * The OpenID provider's storage: its adapter's one table (grants, tokens, codes, sessions, interactions), the
 * registry of third-party services (its OIDC clients), and its signing keys (sealed at rest).
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('oidc_payloads', (t) => {
    t.text('kind').notNullable(); // the oidc-provider model name: Grant, AccessToken, Session, …
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('uid');
    t.text('user_code');
    t.text('account_id');
    t.text('client_id');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.primary(['kind', 'id']);
    t.index(['grant_id']);
    t.index(['uid']);
    t.index(['user_code']);
    t.index(['account_id', 'client_id']);
    t.index(['expires_at']);
  });

  await db.schema.createTable('services', (t) => {
    t.text('client_id').primary();
    t.text('name').notNullable();
    t.text('role').notNullable(); // a role from policies/roles
    t.jsonb('redirect_uris').notNullable();
    t.jsonb('post_logout_redirect_uris').notNullable().defaultTo('[]');
    t.text('scope').notNullable(); // the scopes it may ask for, space-separated
    t.text('webhook_url');
    t.text('backchannel_logout_uri');
    t.text('logo_uri');
    // SHA-256 of a 256-bit random secret: shown once at registration, never stored in clear.
    t.text('secret_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('disabled_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
  });

  // Operators register and disable services through the admin API; granted with `npm run services -- operator`.
  await db.schema.alterTable('users', (t) => {
    t.boolean('is_operator').notNullable().defaultTo(false);
  });

  await db.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    t.binary('private_jwk').notNullable(); // sealed under a KEK-derived key
    t.text('state').notNullable(); // active | retired
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('retired_at', { useTz: true });
  });
}
