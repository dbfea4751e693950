/** DELETE /api/v1/profile/avatar. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { removeAvatar } from './profile.ts';

export const deleteAvatar: Handler = (input, deps) => removeAvatar(deps, userCaller(input.caller), input.clientIp);
