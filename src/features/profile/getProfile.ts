/** GET /api/v1/profile: the owner's whole profile. */
import type { Handler } from '../../http/types.ts';
import { userCaller } from '../accounts/sessions.ts';
import { getOwnProfile } from './profile.ts';

export const getProfile: Handler = (input, deps) => getOwnProfile(deps, userCaller(input.caller).userId);
