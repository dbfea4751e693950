import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { endSession as end } from './devices.ts';

export const endSession: Handler = async ({ caller, params, clientIp }, deps) => end(deps, userCaller(caller), params.session_id, clientIp);
