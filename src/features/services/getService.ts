import type { Handler } from '../../deps.ts';
import { getService as get } from '../../oidc/services.ts';
import { assertOperator } from './operators.ts';
import { serialize } from './createService.ts';

export const getService: Handler = async ({ caller, params }, deps) => {
  await assertOperator(deps, caller);
  return serialize(await get(deps.db, params.client_id));
};
