/** Passkeys as stored: the credential id, its COSE public key, signature counter, transports and a name. */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/db.ts';

export interface PasskeyRow {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Uint8Array;
  counter: string | number;
  transports: string[] | string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

export function transportsOf(row: PasskeyRow): string[] {
  return typeof row.transports === 'string' ? (JSON.parse(row.transports) as string[]) : row.transports;
}

export async function listPasskeyRows(q: Queryable, userId: string): Promise<PasskeyRow[]> {
  return (await q('passkeys').where({ user_id: userId }).orderBy('created_at')) as PasskeyRow[];
}

export async function findPasskeyByCredentialId(q: Queryable, credentialId: string): Promise<PasskeyRow | undefined> {
  return (await q('passkeys').where({ credential_id: credentialId }).first()) as PasskeyRow | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findPasskey(q: Queryable, userId: string, id: string): Promise<PasskeyRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return (await q('passkeys').where({ user_id: userId, id }).first()) as PasskeyRow | undefined;
}

export async function insertPasskey(
  q: Queryable,
  row: { user_id: string; credential_id: string; public_key: Uint8Array; counter: number; transports: string[]; name: string },
): Promise<PasskeyRow> {
  const [inserted] = (await q('passkeys')
    .insert({ id: randomUUID(), ...row, public_key: Buffer.from(row.public_key), transports: JSON.stringify(row.transports) })
    .returning('*')) as PasskeyRow[];
  return inserted;
}

/** Records a sign-in: the new counter (never lower) and when. */
export async function touchPasskey(q: Queryable, id: string, counter: number): Promise<void> {
  await q('passkeys')
    .where({ id })
    .update({ counter: q.raw('greatest(counter, ?)', [counter]), last_used_at: new Date() });
}
