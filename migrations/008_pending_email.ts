/**
 * A change of e-mail address waits for the code mailed to the new address: until it is entered the account keeps
 * its address (for login, password resets and mail). The pending address rides on its verification code's row,
 * sealed under the profile's DEK; `email_index` of that row is the new address's index.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('email_verifications', (t) => {
    t.binary('new_email'); // sealed, AAD email_verifications:<user_id>:new_email; null for a code of the current address
  });
}
