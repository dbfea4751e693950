import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { listDevices } from './devices.ts';

/** The person's live sessions (first-party logins and browser sessions at the provider) and passkeys. */
export const listSessions: Handler = async ({ caller }, deps) => listDevices(deps, userCaller(caller));
