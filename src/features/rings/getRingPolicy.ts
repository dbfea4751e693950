/** GET /api/v1/profile/privilege-rings/policy: the whole ring configuration as a YAML ring policy file. */
import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { exportPolicy } from './rings.ts';

export const getRingPolicy: Handler = async (input, deps) =>
  new Reply(await exportPolicy(deps, userCaller(input.caller).userId), {
    type: 'application/yaml; charset=utf-8',
    headers: { 'Content-Disposition': 'inline; filename="ring-policy.yaml"' },
  });
