import type { Handler } from '../../deps.ts';
import { EmergencyAccessNotFound } from '../../errors.ts';
import { removeSetup } from './setup.ts';

/** Deletes the emergency setup, its key and card; every open access to it ends. */
export const deleteEmergencyAccess: Handler = async ({ caller, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('deleteEmergencyAccess needs a user caller');
  const id = await removeSetup(deps, caller.userId, clientIp);
  if (!id) throw new EmergencyAccessNotFound('you have no emergency access set up');
  return { access_id: id };
};
