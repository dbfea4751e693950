/** PUT /api/v1/profile/avatar: multipart `avatar`. */
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { setAvatar } from './profile.ts';

export const uploadAvatar: Handler = (input, deps) => setAvatar(deps, userCaller(input.caller), input.files.avatar.data, input.clientIp);
