/** PUT /api/v1/profile/privilege-rings/policy: replace the whole ring configuration with an uploaded YAML file. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { importPolicy, reserveUpload } from './rings.ts';

export const replaceRingPolicy: Handler = async (input, deps) => {
  const { userId } = userCaller(input.caller);
  await reserveUpload(deps, userId);
  return importPolicy(deps, userId, String(input.body.text ?? ''), input.clientIp);
};
