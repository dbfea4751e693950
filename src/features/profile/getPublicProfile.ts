/** GET /api/v1/profiles/{handle}: one person's public profile. */
import type { Handler } from '../../deps.ts';
import * as profile from './profile.ts';

export const getPublicProfile: Handler = async (input, deps) => ({ profile: await profile.getPublicProfile(deps, input.params.handle) });
