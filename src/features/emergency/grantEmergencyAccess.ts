import type { Handler } from '../../deps.ts';
import { grantAsResponder } from './emergency.ts';

/** Seed API 5: a responder organisation breaks the glass for one of its verified responders. */
export const grantEmergencyAccess: Handler = async ({ caller, body, clientIp }, deps) => ({
  ...(await grantAsResponder(deps, caller, body, clientIp)),
});
