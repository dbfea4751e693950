/**
 * The OpenID provider's adapter now stores the ids of tokens, codes, sessions and interactions as their SHA-256
 * (src/oidc/adapter.ts). Rows written before are converted in place, so tokens and sign-ins already issued keep
 * working: the id becomes its hash and the copy of it in the payload (`jti`) goes. Interactions (sign-ins in
 * progress, 30 minutes at most) also carry their id in their resume URL and their session's cookie value: they are
 * deleted, and a person in the middle of one starts it again from the service. The list of kinds is this
 * migration's own, as it was when written.
 */
import type { Knex } from 'knex';

const HASHED_KINDS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'Session',
];

export async function up(db: Knex): Promise<void> {
  await db('oidc_payloads').where({ kind: 'Interaction' }).delete();
  await db.raw(
    `update oidc_payloads
        set id = encode(sha256(convert_to(id, 'UTF8')), 'hex'), payload = payload - 'jti'
      where kind = any(?::text[])`,
    [HASHED_KINDS],
  );
}
