/** Operators manage the services registry through the admin API; everyone else is refused. */
import { Forbidden, NotAnOperator } from '../../errors.ts';
import type { AppDeps, Caller } from '../../deps.ts';

export async function assertOperator(deps: AppDeps, caller: Caller): Promise<string> {
  if (caller.kind !== 'user') throw new Forbidden('only operators may manage services');
  const row = (await deps.db('users').where({ id: caller.userId }).first('is_operator')) as { is_operator: boolean } | undefined;
  if (!row?.is_operator) {
    throw new NotAnOperator('only operators may manage services (an operator is made with `npm run services -- operator <handle>`)');
  }
  return caller.userId;
}
