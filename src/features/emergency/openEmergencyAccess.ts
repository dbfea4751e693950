import type { Handler } from '../../deps.ts';
import { openAsContact } from './emergency.ts';

/** A trusted contact (signed in) opens the emergency access of a person who named them. */
export const openEmergencyAccess: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('openEmergencyAccess needs a user caller');
  return { ...(await openAsContact(deps, caller.userId, body, clientIp)) };
};
