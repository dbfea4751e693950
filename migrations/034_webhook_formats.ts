/**
 * How a service's events are delivered (issue 16, Deliver 3): `standard-webhooks` — a JSON event signed with the
 * service's symmetric `whsec_…` secret (Standard Webhooks) — or `ssf`: a Security Event Token (RFC 8417) signed with
 * Ringfence's issuer key and pushed per RFC 8935, carrying the OpenID CAEP event (`token-claims-change`,
 * `session-revoked`) — for services registered for the OpenID Shared Signals Framework. An `ssf` endpoint has no
 * secret: its receiver verifies the issuer's published keys (/.well-known/ssf-configuration names them).
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('webhook_endpoints', (t) => {
    t.text('format').notNullable().defaultTo('standard-webhooks');
    t.binary('secret').nullable().alter();
  });
  await db.raw(`
    alter table webhook_endpoints add constraint webhook_endpoints_format_check
      check ((format = 'standard-webhooks' and secret is not null) or (format = 'ssf' and secret is null))`);
}
