/** PUT /api/v1/profile/privilege-rings/policy: replace the whole ring configuration with an uploaded YAML file. */
import type { Handler } from '../../http/types.ts';
import { userCaller } from '../accounts/sessions.ts';
import { importPolicy } from './rings.ts';

export const replaceRingPolicy: Handler = (input, deps) => importPolicy(deps, userCaller(input.caller).userId, String(input.body.text ?? ''), input.clientIp);
